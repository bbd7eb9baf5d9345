import blessed from "blessed";
import { installWidthTable } from "./clients/tui/dist/text/blessed-width.js";
if (process.env.PATCH !== "0") installWidthTable();
const screen = blessed.screen({ smartCSR: true, fullUnicode: true });
const b = blessed.box({ parent: screen, top: 0, left: 0, width: 30, height: 6, border: "line", tags: true, wrap: false });
b.setContent(["a😀b👍c" + "-".repeat(28-7) + "|", "x⚡y中z" + "-".repeat(28-8)+"|", "é" + "-".repeat(26)+"|", "𠀀k|"].join("\n"));
screen.render();
setTimeout(() => { screen.destroy(); process.exit(0); }, 3000);
