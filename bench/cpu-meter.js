// CPU time of other processes, from /proc/PID/stat, and of this one, from process.cpuUsage:
// what each process of a scenario spends per message says which one limits, where a rate on
// this shared machine mostly says how much of a core the scenario got.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second of utime/stime in /proc/PID/stat (USER_HZ; 100 on Linux here). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU µs of a live process so far (10 ms resolution); 0 if it is gone. */
export function processCpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; the fields after its ")" do not.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1e6) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function selfCpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Sums, over the spans between start() and stop(), the CPU µs of each named process (name →
 * pid) and of this process (`bench`); perMessage(n) divides the sums by n messages,
 * perSecond(s) by s wall seconds (the cores each process kept busy).
 */
export function cpuMeter(pids) {
  const read = () => ({ ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMicros(pid)])), bench: selfCpuMicros() });
  const total = Object.fromEntries(Object.keys(read()).map((name) => [name, 0]));
  let before;
  const divided = (by, digits) => Object.fromEntries(Object.entries(total).map(([name, micros]) => [name, by > 0 ? Number((micros / by).toFixed(digits)) : 0]));
  return {
    start() {
      before = read();
    },
    stop() {
      const now = read();
      for (const name of Object.keys(total)) total[name] += now[name] - before[name];
    },
    perMessage: (messages) => divided(messages, 1),
    perSecond: (seconds) => divided(seconds * 1e6, 3),
  };
}
