// Loaded with NODE_OPTIONS="--import <this file>" (Node 20 refuses --cpu-prof in NODE_OPTIONS,
// and the supervisor starts its services without extra node flags). In the process whose
// JARVIS_ROLE is BENCH_PROFILE_ROLE it runs the V8 CPU profiler from start to exit and writes
// BENCH_PROFILE_DIR/<role>.<pid>.cpuprofile; every other process is left alone.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Session } from "node:inspector";

const role = process.env.BENCH_PROFILE_ROLE;
if (role && process.env.JARVIS_ROLE === role) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 1000 });
  session.post("Profiler.start");
  // A same-thread inspector session answers synchronously, so this works in an exit handler.
  process.on("exit", () => {
    session.post("Profiler.stop", (error, result) => {
      if (!error) writeFileSync(join(process.env.BENCH_PROFILE_DIR, `${role}.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
