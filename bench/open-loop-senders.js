// How the open loop (`open-loop.js`) hands alice's session one scheduled message: a unary
// SendMessage call per message, or one request per message on a SendMessages stream (the API
// for busy clients; the stream stays open across slices, and nothing is batched on the client:
// each request is written when its time comes). Both report a refusal with its domain code.
import { errorCodeOf } from "@jarvis/rpc";

/** One SendMessage call per message. */
export function unarySender(client) {
  return {
    name: "unary SendMessage",
    send(text, onRefused) {
      client.sendMessage({ conversation: "bob", text }).catch((error) => onRefused(errorCodeOf(error) ?? "other"));
    },
    close: async () => {},
  };
}

/** Requests written to one open SendMessages stream as they are due; answers matched by correlation id. */
export function streamSender(client) {
  const queued = [];
  let wake;
  let closed = false;
  async function* requests() {
    for (;;) {
      while (queued.length > 0) yield queued.shift();
      if (closed) return;
      await new Promise((resolve) => (wake = resolve));
      wake = undefined;
    }
  }
  const refusals = new Map();
  let next = 0;
  const answers = (async () => {
    for await (const answer of client.sendMessages(requests())) {
      const onRefused = refusals.get(answer.correlationId);
      refusals.delete(answer.correlationId);
      if (answer.result.case === "error") onRefused?.(answer.result.value.errorCode || "other");
    }
  })();
  return {
    name: "SendMessages stream, one request per message",
    send(text, onRefused) {
      const correlationId = String(next++);
      refusals.set(correlationId, onRefused);
      queued.push({ correlationId, conversation: "bob", text });
      wake?.();
    },
    async close() {
      closed = true;
      wake?.();
      await answers;
    },
  };
}
