import { systemClock } from "@jarvis/core";
import { createIpcTransport, createServiceLogger, formatIpcAddress, onShutdownSignal, readIpcToken, startServer } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { loadConfig } from "./config.js";
import { createSessionRoutes, sessionReadiness } from "./routes.js";
import { SESSION_SERVER_TUNING } from "./server-tuning.js";
import { GrpcPeerNetwork } from "./network-client.js";
import { LINK_CLIENT_TUNING } from "./link-client-codecs.js";
import { SessionApp } from "./src/app/session-app.js";
import { linkToSupervisor } from "./key-handoff.js";

// Composition root of the session service: config, logger, network link, domain, server, signals.
process.umask(0o077);
const config = loadConfig(process.env);
const home = config.paths.home;
const logger = createServiceLogger(home, "session", config.logLevel);
const supervisor = linkToSupervisor(process.env, logger.child({ component: "supervisor-link" }));
const token = readIpcToken(home, config.ipc) ?? readIpcToken(home, config.networkIpc);
// The token goes to the network service only after it proves it knows it (network-client.ts).
const network = new GrpcPeerNetwork(createIpcTransport(config.networkIpc, LINK_CLIENT_TUNING), systemClock, logger.child({ component: "network-link" }), {
  ipcToken: readIpcToken(home, config.networkIpc),
});
const app = new SessionApp({ paths: config.paths, clock: systemClock, logger, network, listen: config.listen, advertise: config.advertise, keyCustody: supervisor?.keyCustody });
network.start();
const stop = async () => {
  await app.close();
  await network.close();
  await server.close();
};
const server = await startServer({
  listen: config.ipc,
  // Shutdown stops the whole node: under the supervisor that means asking it, not just us
  // (it would restart a session that merely exited).
  routes: createSessionRoutes(app, logger, () => process.kill(process.env.JARVIS_SUPERVISED === "1" ? process.ppid : process.pid, "SIGTERM")),
  serviceNames: [SessionService.typeName],
  readiness: sessionReadiness(app),
  token,
  logger,
  ...SESSION_SERVER_TUNING,
});
onShutdownSignal(stop, logger);
supervisor?.reportAddress(formatIpcAddress(server.address));
supervisor?.onKey((key) => app.unlockWithKey(key));
logger.info({ ipc: server.address }, "session service ready");
