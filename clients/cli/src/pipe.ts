/**
 * When the reading end of our stdout goes away (`jarvis watch | head -1`), further writes fail
 * with EPIPE. That is the reader saying "enough", not an error: end quietly with exit 0
 * instead of Node's default of an unhandled 'error' event and a stack trace.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") {
      exit(0);
      return;
    }
    throw error;
  });
}
