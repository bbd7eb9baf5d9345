import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { type LinkRequest, type LinkResponse, LinkResponseSchema } from "@jarvis/proto/jarvis/network/v1/network_service";
import type { Logger } from "@jarvis/core";
import type { NetworkNode } from "./src/network-node.js";
import type { LinkEvent } from "./src/link/index.js";
import { errorCode } from "./src/errors.js";

/**
 * The Link RPC over the domain Link. Outbound frames (alone or in batches) are read one at a time and each read
 * waits until the network has room for more, so a session that sends too much is pushed back
 * by HTTP/2 flow control. Inbound events are taken from the Link only when connect asks for
 * the next one, which it does after the previous one was written to the HTTP/2 stream (it
 * waits for 'drain'): a slow reader of this stream holds events in the Link, where their
 * bytes are counted and pause the peer sockets feeding them.
 */
export async function* runLink(
  node: NetworkNode,
  requests: AsyncIterable<LinkRequest>,
  ctx: HandlerContext,
  logger: Logger,
): AsyncGenerator<LinkResponse> {
  const link = node.openLink();
  const pump = (async () => {
    for await (const request of requests) {
      const { body } = request;
      if (body.case === "options") {
        if (body.value.inboundFrameBatches) link.batchInbound();
      } else if (body.case === "frame") {
        await link.send(body.value.publicKey, body.value.payload, body.value.frameId, body.value.channelId);
      } else if (body.case === "frames") {
        // The same as one request per frame: each waits for room, each is reported on its own.
        for (const frame of body.value.frames) await link.send(frame.publicKey, frame.payload, frame.frameId, frame.channelId);
      }
    }
  })().catch((error: unknown) => logger.debug({ code: errorCode(error) }, "link request stream ended"));
  const onAbort = () => node.closeLink(link);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  void pump.finally(() => node.closeLink(link));
  try {
    for await (const event of link) {
      yield linkEventToProto(event);
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    node.closeLink(link);
  }
}

export function linkEventToProto(event: LinkEvent): LinkResponse {
  switch (event.kind) {
    case "frame":
      return create(LinkResponseSchema, { body: { case: "frame", value: { publicKey: event.publicKey, payload: event.payload } } });
    case "frames":
      return create(LinkResponseSchema, { body: { case: "frames", value: { frames: event.frames } } });
    case "connected":
      return create(LinkResponseSchema, {
        body: { case: "peerConnected", value: { publicKey: event.publicKey, address: event.address, outbound: event.outbound, channelId: event.channelId } },
      });
    case "disconnected":
      return create(LinkResponseSchema, {
        body: { case: "peerDisconnected", value: { publicKey: event.publicKey, errorCode: event.code, error: event.message } },
      });
    case "sent":
      return create(LinkResponseSchema, { body: { case: "framesSent", value: { publicKey: event.publicKey, frameIds: event.frameIds } } });
    case "dropped":
      return create(LinkResponseSchema, {
        body: { case: "frameDropped", value: { publicKey: event.publicKey, frameId: event.frameId, errorCode: event.code, error: event.message } },
      });
  }
}
