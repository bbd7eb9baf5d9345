export { runTui, type TuiOptions } from "./run.js";
export { runApp, type AppOptions } from "./app.js";
export type { SessionClient } from "./client.js";
