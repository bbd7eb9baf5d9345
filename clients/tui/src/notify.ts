import { execFile } from "node:child_process";
import { displayText, truncate } from "./text/display.js";

/**
 * Desktop notification through notify-send, started with execFile (arguments as an array,
 * never a shell), so message text cannot run anything. Missing notify-send is not an error.
 */
export function notify(title: string, body: string, run: typeof execFile = execFile): void {
  const args = ["--app-name=Jarvis", "--", truncate(displayText(title), 60), truncate(displayText(body), 100)];
  try {
    run("notify-send", args, { timeout: 5_000 }, () => {});
  } catch {
    // no notification daemon here; the TUI still shows the badge
  }
}
