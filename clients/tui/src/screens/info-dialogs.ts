import { timestampDate } from "@bufbuild/protobuf/wkt";
import { KEYS } from "../keys.js";
import { pad, safe } from "../text/display.js";
import { openModal } from "../widgets/modal.js";
import type { DialogContext } from "./context.js";

export function showHelp(ctx: DialogContext): void {
  const width = Math.max(...KEYS.map((k) => k.keys.length)) + 2;
  openModal(ctx.screen, ctx.router, { title: "keys (Esc closes)", width: "95%", content: KEYS.map((k) => `{cyan-fg}${pad(k.keys, width)}{/cyan-fg}${k.action}`).join("\n") });
}

export async function showPeers(ctx: DialogContext): Promise<void> {
  const { peers } = await ctx.client.listPeers({});
  const rows = peers.map((p) => {
    const s = p.stats;
    const since = s?.connectedSinceTime ? timestampDate(s.connectedSinceTime).toLocaleTimeString() : "-";
    return `${pad(safe(p.name || p.uid.slice(0, 8)), 14)} ${pad(safe(p.address || "-"), 22)} rtt ${s?.rttMs ?? 0}ms  up since ${since}  tx ${s?.bytesSent ?? 0}B rx ${s?.bytesReceived ?? 0}B  tries ${s?.connectAttempts ?? 0}/${s?.connectFailures ?? 0} failed${s?.lastError ? `  last error: ${safe(s.lastError)}` : ""}`;
  });
  openModal(ctx.screen, ctx.router, { title: "peer health (Esc closes)", width: "95%", content: rows.join("\n") || "no peers" });
}
