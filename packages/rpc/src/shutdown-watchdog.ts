import { Worker } from "node:worker_threads";

/**
 * A watchdog for a shutdown in progress, kept on a worker thread: it SIGKILLs this process
 * when the main thread has not answered for `stallMs`, or when `deadlineMs` have passed in all.
 *
 * Why a thread: when both services stop at once (SIGTERM to both, `jarvis down`, a container
 * stop), Node's http2 can spin inside RstStream for the session's Link call (seen in a CPU
 * profile: submitRstStream under connect-node's abort path, in native code). No timer of the
 * main thread runs then, so the graceful-stop deadline never fired, and an orphaned session
 * grew to GBs of RSS. A shutdown that does its work never stalls the loop that long.
 */
export function startShutdownWatchdog(stallMs: number, deadlineMs: number): void {
  const watchdog = new Worker(
    `const { parentPort } = require("node:worker_threads");
     const started = Date.now();
     let heard = started;
     parentPort.on("message", () => { heard = Date.now(); });
     setInterval(() => {
       const now = Date.now();
       if (now - heard > ${stallMs} || now - started > ${deadlineMs}) process.kill(${process.pid}, "SIGKILL");
     }, 50);`,
    { eval: true },
  );
  watchdog.unref();
  const heartbeat = setInterval(() => watchdog.postMessage(0), Math.max(10, Math.floor(stallMs / 4)));
  heartbeat.unref();
}
