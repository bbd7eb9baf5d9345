import { createServer } from "node:net";
import { formatHostPort, parseHostPort } from "@jarvis/core";
import { CliError } from "./cli-error.js";

/**
 * Checks the peer listen address before a node starts. This is a check, not a choice: the
 * network service binds the address itself; a port taken in between still shows up later.
 * A chosen port that is busy is an error naming it (at once, not after a start timeout);
 * an unchosen one (the default) gives way to port 0, which the node then keeps.
 */
export async function checkListenPort(listen: string, chosen: boolean): Promise<string> {
  const { host, port } = parseHostPort(listen, { allowZeroPort: true });
  if (port === 0) return listen;
  const problem = await bindProblem(host, port);
  if (!problem) return listen;
  if (chosen) throw new CliError(`cannot listen on ${listen}: ${problem === "EADDRINUSE" ? `port ${port} is already in use` : problem}; choose another with --listen HOST:PORT (or port 0 for any free one)`);
  return formatHostPort({ host, port: 0 });
}

function bindProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
