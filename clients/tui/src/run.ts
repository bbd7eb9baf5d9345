import type { SessionClient } from "./client.js";
import { runApp } from "./app.js";

export interface TuiOptions {
  /** Connects to (and if needed starts) the node; provided by the CLI. */
  connect: () => Promise<SessionClient>;
}

export async function runTui(options: TuiOptions): Promise<number> {
  const client = await options.connect();
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGTERM", stop);
  try {
    return await runApp({ client, input: process.stdin, output: process.stdout, signal: abort.signal, notifications: process.env.JARVIS_NOTIFY !== "0" });
  } finally {
    process.off("SIGTERM", stop);
    abort.abort();
  }
}
