import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { CliError } from "./cli-error.js";

/**
 * The password comes from --password-file, JARVIS_PASSWORD, or an interactive prompt (input
 * not echoed). Scripts without a TTY must use one of the first two.
 */
export async function readPassword(passwordFile: string | undefined, prompt = "Password: "): Promise<string> {
  if (passwordFile) {
    try {
      return readFileSync(passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      throw new CliError(`cannot read password file: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
    }
  }
  const fromEnv = process.env.JARVIS_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!process.stdin.isTTY) throw new CliError("a password is needed: set JARVIS_PASSWORD or pass --password-file FILE");
  return promptHidden(prompt);
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    let prompted = false;
    output._writeToOutput = (s: string) => {
      // Show the prompt once; swallow the echo of typed characters.
      if (!prompted) {
        prompted = true;
        process.stderr.write(s);
      }
    };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
    rl.on("SIGINT", () => {
      rl.close();
      reject(new CliError("cancelled"));
    });
  });
}
