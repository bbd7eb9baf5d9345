import { parseHostPort, type Logger } from "@jarvis/core";
import type { Ack, ChatMessage, GroupMessage, GroupUpdate, Receipt } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { decodeEnvelope } from "../messages/envelopes.js";
import { BatchAbortError } from "./batch-abort.js";
import type { Contact, DropCounters } from "../model.js";

/** Who handles each kind of envelope; implemented by the unlocked session's services. */
export interface PeerFrameHandlers {
  contactByKey(publicKey: Buffer): Contact | undefined;
  /** Whether this peer sent Hello on its current channel. */
  greeted(contact: Contact): boolean;
  /** Traffic that came before the peer's Hello (refused, not acked). */
  beforeHello(contact: Contact): void;
  hello(contact: Contact, displayName: string, advertisedAddress: string, replyRequested: boolean): void;
  chat(contact: Contact, body: ChatMessage): void;
  groupMessage(contact: Contact, body: GroupMessage): void;
  groupUpdate(contact: Contact, body: GroupUpdate): void;
  ack(contact: Contact, body: Ack): void;
  receipt(contact: Contact, body: Receipt): void;
}

/**
 * Turns one authenticated frame from a peer into the right handler call. The sender is the
 * peer that proved its key on the channel; anything from a key that is not a contact, or that
 * does not parse, is dropped and counted. Unknown bodies are ignored (newer peers).
 */
export function dispatchPeerFrame(handlers: PeerFrameHandlers, drops: DropCounters, key: Buffer, payload: Buffer, log: Logger): void {
  const contact = handlers.contactByKey(key);
  if (!contact) {
    drops.unknownSender++;
    return;
  }
  let envelope;
  try {
    envelope = decodeEnvelope(payload);
  } catch {
    drops.malformed++;
    return;
  }
  try {
    const body = envelope.body;
    // Hello comes first on every channel (docs/protocol.md): what would be stored or shown is
    // refused before it. Acks only settle our own outbox towards this peer, so they are taken.
    if (STORING_BODIES.has(body.case) && !handlers.greeted(contact)) {
      drops.beforeHello++;
      handlers.beforeHello(contact);
      return;
    }
    switch (body.case) {
      case "hello":
        handlers.hello(contact, body.value.displayName, validAddress(body.value.advertisedAddress), body.value.replyRequested);
        break;
      case "chatMessage":
        handlers.chat(contact, body.value);
        break;
      case "groupMessage":
        handlers.groupMessage(contact, body.value);
        break;
      case "groupUpdate":
        handlers.groupUpdate(contact, body.value);
        break;
      case "ack":
        handlers.ack(contact, body.value);
        break;
      case "receipt":
        handlers.receipt(contact, body.value);
        break;
      default:
        // Unknown or network-level bodies (goodbye, future types) are ignored on purpose.
        break;
    }
  } catch (error) {
    // A half-done write in the batch's transaction: the batch fails as a whole (not acked).
    if (error instanceof BatchAbortError) throw error;
    // No peer uid at info level and above: logs must not record the contact graph (docs/security.md).
    log.error({ err: error, body: envelope.body.case }, "handling a peer envelope failed");
  }
}

const STORING_BODIES = new Set<string | undefined>(["chatMessage", "groupMessage", "groupUpdate", "receipt"]);

function validAddress(address: string): string {
  try {
    parseHostPort(address);
    return address;
  } catch {
    return "";
  }
}
