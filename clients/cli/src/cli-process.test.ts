import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, JARVIS_BIN, runCli } from "../../../test/helpers/cli.js";

/** The real `jarvis` process: exit codes, stderr lines, the password prompt. */

const home = mkdtempSync(join(tmpdir(), "jv-cli-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("jarvis as a process", () => {
  it("prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    const result = await runCli(home, ["--version"]);
    expect(result).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  it("exits 2 with one line and a hint on an unknown option or an extra argument", async () => {
    for (const args of [["status", "--bogus"], ["status", "extra"], ["contact", "frob"]]) {
      const result = await runCli(home, args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^jarvis: .* \(see `jarvis .*--help`\)$/);
    }
  });

  it("refuses a bad address or log level at once, remembering and starting nothing", async () => {
    for (const args of [["up", "--ipc", "junk"], ["up", "--listen", "nohost"], ["init", "--name", "x", "--advertise", "1.2.3.4:0"], ["up", "--log-level", "loud"]]) {
      const result = await runCli(home, args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^jarvis: bad .*\\(see \`jarvis ${args[0]} --help\`\\)\n$`));
    }
    expect(readdirSync(home)).toEqual([]);
  });

  it("lists a group's subcommands when given the group alone", async () => {
    const result = await runCli(home, ["account"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("jarvis account export FILE");
    expect(result.stdout).toContain("jarvis account import FILE");
  });

  it("without a terminal and no password source, says how to give one and starts nothing", async () => {
    const result = await runCli(home, ["up"], { JARVIS_PASSWORD: "" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("jarvis: a password is needed: set JARVIS_PASSWORD or pass --password-file FILE");
    expect(readdirSync(home)).toEqual([]);
  });
});

describe("the password prompt in a terminal (tmux)", () => {
  const session = `jv-pw-${randomBytes(4).toString("hex")}`;
  const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });
  const screen = () => tmux("capture-pane", "-p", "-t", session);
  afterAll(() => {
    try {
      tmux("kill-session", "-t", session);
    } catch {
      // already gone
    }
  });

  it("does not echo what is typed, and Ctrl-C cancels cleanly with nothing started", async () => {
    const profile = mkdtempSync(join(tmpdir(), "jv-pw-"));
    try {
      const command = `env -u JARVIS_PASSWORD ${process.execPath} ${JARVIS_BIN} --home ${profile} up; echo "exit=$?"; sleep 60`;
      tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "10", command);
      await eventually(async () => (screen().includes("Password:") ? true : undefined), 20_000, "the prompt");
      tmux("send-keys", "-t", session, "-l", "hunter2-secret");
      tmux("send-keys", "-t", session, "C-c");
      const shown = await eventually(async () => (screen().includes("exit=") ? screen() : undefined), 20_000, "jarvis to exit");
      expect(shown).not.toContain("hunter2");
      expect(shown).toContain("jarvis: cancelled");
      expect(shown).toContain("exit=130");
      expect(shown).not.toMatch(/Error|at /);
      expect(readdirSync(profile)).toEqual([]);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});

describe("a closed stdout pipe (jarvis … | head -1)", () => {
  it("ends quietly with exit 0 when the reader has gone before jarvis writes", async () => {
    for (const args of [["--help"], ["status"]]) {
      const child = spawn(process.execPath, [JARVIS_BIN, "--home", home, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      // Closed before the child has even loaded: its first write meets a pipe with no reader.
      child.stdout.destroy();
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
      const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: "" });
    }
  });
});
