// A bench peer in a child process, spoken to over stdin/stdout one JSON line at a time.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * Starts a bench peer process (node <args>) and waits for its first JSON line. request(line)
 * writes a stdin line and resolves with the next JSON line; cpuMicros() asks the process for
 * its own CPU time so far (user + system, µs).
 */
export async function startPeer(args, name) {
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`${name} exited ${code}`))));
  exited.catch(() => {});
  const next = async () => JSON.parse((await Promise.race([lines.next(), exited])).value);
  const info = await next();
  const request = (line) => {
    child.stdin.write(line + "\n");
    return next();
  };
  return { child, ...info, request, cpuMicros: async () => (await request("cpu")).cpuMicros };
}

