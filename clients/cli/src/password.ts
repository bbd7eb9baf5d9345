import { readFileSync } from "node:fs";
import { read } from "read";
import { CliError } from "./cli-error.js";

/** Exit code of a prompt cancelled with Ctrl-C (128 + SIGINT), as shells report it. */
export const CANCELLED_EXIT_CODE = 130;

/**
 * The password comes from --password-file, JARVIS_PASSWORD, or an interactive prompt (input
 * not echoed). Scripts without a TTY must use one of the first two.
 */
export async function readPassword(passwordFile: string | undefined, prompt = "Password:"): Promise<string> {
  if (passwordFile) {
    try {
      return readFileSync(passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      throw new CliError(`cannot read password file: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
    }
  }
  const fromEnv = process.env.JARVIS_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!process.stdin.isTTY) throw new CliError("a password is needed: set JARVIS_PASSWORD or pass --password-file FILE");
  return promptHidden(prompt);
}

async function promptHidden(prompt: string): Promise<string> {
  try {
    // The prompt goes to stderr so `jarvis … --json > file` keeps stdout clean.
    return await read({ prompt, silent: true, replace: "", input: process.stdin, output: process.stderr });
  } catch (error) {
    // read rejects with "canceled" on Ctrl-C (the terminal is in raw mode, so no SIGINT).
    if (error instanceof Error && error.message === "canceled") {
      process.stderr.write("\n");
      throw new CliError("cancelled", CANCELLED_EXIT_CODE);
    }
    throw error;
  } finally {
    // read leaves stdin flowing; a paused stdin lets the command exit when it is done.
    process.stdin.pause();
  }
}
