export { runTui, type TuiOptions } from "./run.js";
