import { systemClock } from "@jarvis/core";
import { createServiceLogger, exitWhenSupervisorGone, formatIpcAddress, onShutdownSignal, openSupervisorPipe, readIpcToken, startServer } from "@jarvis/rpc";
import { NetworkService } from "@jarvis/proto/jarvis/network/v1/network_service";
import { loadConfig } from "./config.js";
import { LINK_CODECS } from "./link-codecs.js";
import { NETWORK_OPEN_METHODS, createNetworkRoutes } from "./routes.js";
import { NetworkNode } from "./src/network-node.js";

// Composition root of the network service: config, logger, domain, server, signals.
process.umask(0o077);
const config = loadConfig(process.env);
const logger = createServiceLogger(config.home, "network", config.logLevel);
const node = new NetworkNode({
  clock: systemClock,
  logger,
  defaultListen: config.listen,
  timeouts: config.timeouts,
  backoff: config.backoff,
});
const ipcToken = readIpcToken(config.home, config.ipc);
const server = await startServer({
  listen: config.ipc,
  routes: createNetworkRoutes(node, logger, { ipcToken }),
  serviceNames: [NetworkService.typeName],
  token: ipcToken,
  // The session asks us to prove we know the token before it sends the token itself.
  openMethods: NETWORK_OPEN_METHODS,
  codecs: LINK_CODECS,
  logger,
});
onShutdownSignal(async () => {
  await node.close();
  await server.close();
}, logger);
// Under the supervisor: report the bound address, and never outlive it (EOF = supervisor gone).
const supervisor = openSupervisorPipe(process.env, {
  onClosed: () => {
    logger.warn({}, "the supervisor is gone; shutting down");
    exitWhenSupervisorGone()();
  },
});
supervisor?.send({ type: "address", address: formatIpcAddress(server.address) });
logger.info({ ipc: server.address }, "network service ready");
