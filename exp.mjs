import pty from "node-pty";
import xterm from "@xterm/headless";
const term = new xterm.Terminal({ cols: 40, rows: 8, allowProposedApi: true });
const p = pty.spawn(process.execPath, ["exp-app.mjs"], { cols: 40, rows: 8, env: { ...process.env, TERM: "xterm-256color", LANG: "C.UTF-8" } });
p.onData((d) => term.write(d));
setTimeout(() => term.write("", () => { for (let i = 0; i < 7; i++) console.log(JSON.stringify(term.buffer.active.getLine(i).translateToString(true))); }), 1500);
