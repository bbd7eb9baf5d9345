// Loaded into every process of a node under test with NODE_OPTIONS="--import <this file>"
// (the supervisor passes its environment on to its services), so a reliability run can report
// each service's worst event-loop stall and peak RSS without any hook in the product code.
// Each process rewrites one small JSON file, <JARVIS_PROBE_DIR>/<role>-<pid>.json, once a second.
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setInterval } from "node:timers";

/** Module loading and the first unlock are start-up, not stalls of a running service. */
const WARM_UP_MS = 3000;

const dir = process.env.JARVIS_PROBE_DIR;
// Services carry JARVIS_ROLE; a client under test (the TUI) is named by JARVIS_PROBE_ROLE instead.
const role = process.env.JARVIS_ROLE ?? process.env.JARVIS_PROBE_ROLE;
if (dir && role) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = Date.now();
  let startupMaxDelayMs = 0;
  let warm = false;
  let peakRss = 0;
  const file = join(dir, `${role}-${process.pid}.json`);
  const record = () => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if (!warm && Date.now() - started >= WARM_UP_MS) {
      startupMaxDelayMs = delay.max / 1e6;
      delay.reset();
      warm = true;
    }
    const report = { role, pid: process.pid, home: process.env.JARVIS_HOME ?? "", maxDelayMs: warm ? delay.max / 1e6 : 0, startupMaxDelayMs, peakRssBytes: peakRss };
    try {
      // Whole or not at all: a kill -9 mid-write must not leave half a report to read.
      writeFileSync(`${file}.tmp`, JSON.stringify(report));
      renameSync(`${file}.tmp`, file);
    } catch {
      // The profile is being torn down: nothing left to report to.
    }
  };
  setInterval(record, 1000).unref();
}
