import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("./faults-probe.mjs", import.meta.url));

interface ProbeReport {
  role: string;
  pid: number;
  home: string;
  maxDelayMs: number;
  startupMaxDelayMs: number;
  peakRssBytes: number;
}

/** Per role, over every process that held the role during the run (restarts included). */
export interface RoleFigures {
  processes: number;
  maxEventLoopDelayMs: number;
  maxStartupDelayMs: number;
  peakRssMiB: number;
}

/**
 * Where the processes of the nodes under test report their event-loop delay and RSS (see
 * faults-probe.mjs). `env` goes into the environment of `jarvis up` (and so of the supervisor
 * and its services) and of the TUI.
 */
export class ProbeDir {
  readonly dir = mkdtempSync(join(tmpdir(), "jv-probe-"));

  get env(): Record<string, string> {
    const inherited = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : "";
    return { NODE_OPTIONS: `${inherited}--import ${PROBE}`, JARVIS_PROBE_DIR: this.dir };
  }

  /** Figures per node label and role, from whatever the processes last wrote. */
  figures(labels: Record<string, string>): Record<string, Record<string, RoleFigures>> {
    const out: Record<string, Record<string, RoleFigures>> = {};
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith(".json"))) {
      let report: ProbeReport;
      try {
        report = JSON.parse(readFileSync(join(this.dir, file), "utf8")) as ProbeReport;
      } catch {
        continue; // caught mid-write by a kill -9
      }
      const label = labels[report.home] ?? report.home;
      const byRole = (out[label] ??= {});
      const f = (byRole[report.role] ??= { processes: 0, maxEventLoopDelayMs: 0, maxStartupDelayMs: 0, peakRssMiB: 0 });
      f.processes++;
      f.maxEventLoopDelayMs = Math.max(f.maxEventLoopDelayMs, round(report.maxDelayMs));
      f.maxStartupDelayMs = Math.max(f.maxStartupDelayMs, round(report.startupMaxDelayMs));
      f.peakRssMiB = Math.max(f.peakRssMiB, round(report.peakRssBytes / 2 ** 20));
    }
    return out;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
