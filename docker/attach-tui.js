#!/usr/bin/env node
// The TUI attached to this container's running session over the socket volume. `jarvis` itself
// insists on its own supervisor (it looks for run/daemon.pid and would start a second node), so
// in a container the TUI is started directly against the session the compose file runs.
import { resolveHome } from "@jarvis/core";
import { runTui } from "@jarvis/tui";
import { sessionClient } from "./session-client.js";

const home = resolveHome(undefined, process.env);
process.exitCode = await runTui({ connect: async () => sessionClient(home) });
