// The parent's side of peers/subscriber.js: bob's subscriber in its own process, counting the
// tagged messages it reports (what the open loop's `received` needs: count, until, stop) and
// handing each arrival to `onArrival(tag, at)` with `at` on this process's performance.now()
// clock, so latencies are measured against the same clock the sends were scheduled on.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const SUBSCRIBER = fileURLToPath(new URL("./peers/subscriber.js", import.meta.url));
/** Warm-ups 250 ms apart before giving up: the process trees and the subscriber are slow to start on a loaded machine. */
const WARM_UP_TRIES = 240;

/** process.hrtime (ns, the system's monotonic clock) minus performance.now(), in ms. */
function monotonicOffsetMs() {
  return Number(process.hrtime.bigint()) / 1e6 - performance.now();
}

export function startSubscriberProcess(node, onArrival) {
  const child = spawn(process.execPath, [SUBSCRIBER], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, BENCH_SESSION_ADDRESS: node.session.address, BENCH_SESSION_TOKEN: node.session.token ?? "" },
  });
  let stopping = false;
  const exited = new Promise((_, reject) =>
    child.once("exit", (code) => {
      if (!stopping) reject(new Error(`bob's subscriber process exited (${code}) before the bench stopped it`));
    }),
  );
  exited.catch(() => {});
  const offset = monotonicOffsetMs();
  let count = 0;
  let untagged = 0;
  let waiter;
  createInterface({ input: child.stdout }).on("line", (line) => {
    const [tag, ns] = line.split(" ");
    if (tag === "") {
      untagged++;
    } else {
      count++;
      onArrival(tag, Number(BigInt(ns)) / 1e6 - offset);
    }
    if (waiter && waiter.reached()) waiter.resolve();
  });
  // A dead subscriber would otherwise leave the open loop waiting out its drain limit.
  const wait = (reached) => (reached() ? Promise.resolve() : Promise.race([new Promise((resolve) => (waiter = { reached, resolve })), exited]));
  return {
    pid: child.pid,
    /** Tagged messages seen so far. */
    get count() {
      return count;
    },
    until: (target) => wait(() => count >= target),
    /**
     * The subscription is live-only and its process starts on its own: send untagged warm-ups
     * through `client` (alice's) until the subscriber has reported one (the path is up).
     */
    async warmUp(client) {
      const seen = wait(() => untagged > 0);
      for (let tries = 0; untagged === 0; tries++) {
        if (tries === WARM_UP_TRIES) throw new Error("bob's subscriber process saw no warm-up message");
        await client.sendMessage({ conversation: "bob", text: "warm-up" });
        await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 250))]);
      }
    },
    stop() {
      stopping = true;
      child.stdin.end();
      child.kill();
    },
  };
}
