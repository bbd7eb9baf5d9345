export interface TuiOptions {
  home: string;
  passwordFile: string | undefined;
}

export async function runTui(options: TuiOptions): Promise<number> {
  process.stderr.write(`jarvis: the TUI for ${options.home} is under construction; use the commands in jarvis --help\n`);
  return 1;
}
