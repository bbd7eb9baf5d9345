import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A small tmpfs that a test fills up and frees again: the disk of a node that runs out of
 * space. Mounting needs root (or CAP_SYS_ADMIN); where it is not permitted, unavailable()
 * says why and the test is skipped visibly.
 */
export class SmallDisk {
  readonly dir: string;
  readonly sizeBytes: number;
  #mounted = false;
  #fillers: string[] = [];

  constructor(sizeMiB: number) {
    this.sizeBytes = sizeMiB * 1024 * 1024;
    this.dir = mkdtempSync(join(tmpdir(), "jv-disk-"));
  }

  /** Why this machine cannot mount a tmpfs here, or undefined when it can (probes with a 1 MiB one). */
  static unavailable(): string | undefined {
    const probe = mkdtempSync(join(tmpdir(), "jv-disk-probe-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "pipe" });
      execFileSync("umount", [probe], { stdio: "pipe" });
      return undefined;
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      return `cannot mount a tmpfs (${stderr || (error as Error).message})`;
    } finally {
      rmdirSync(probe);
    }
  }

  mount(): void {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${this.sizeBytes},mode=0700`, "tmpfs", this.dir], { stdio: "pipe" });
    this.#mounted = true;
  }

  /** Free bytes left on the disk, as a process writing to it would see them. */
  freeBytes(): number {
    const stats = statfsSync(this.dir);
    return stats.bavail * stats.bsize;
  }

  /**
   * Writes a filler file until the disk refuses (ENOSPC): from then on every write by anyone
   * to this disk fails. Returns the bytes written. Each call adds one more filler, so a test
   * can fill again after something freed a little space.
   */
  fill(): number {
    const path = join(this.dir, `filler-${this.#fillers.length}`);
    this.#fillers.push(path);
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const fd = openSync(path, "w");
    let written = 0;
    try {
      for (;;) {
        // Smaller writes once the big ones fail, so not even a page is left over.
        const size = written > 0 && this.freeBytes() < chunk.length ? 4096 : chunk.length;
        written += writeSync(fd, chunk, 0, size);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Space returns: every filler is deleted. */
  free(): void {
    for (const path of this.#fillers.splice(0)) rmSync(path, { force: true });
  }

  /** Unmounts (lazily if something still holds a file open) and removes the mount point. */
  unmount(): string | undefined {
    let problem: string | undefined;
    if (this.#mounted) {
      try {
        execFileSync("umount", [this.dir], { stdio: "pipe" });
      } catch (error) {
        problem = `umount ${this.dir}: ${(error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error)}`;
        execFileSync("umount", ["-l", this.dir], { stdio: "pipe" });
      }
      this.#mounted = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
    return problem;
  }
}
