import { parseHostPort, type Logger } from "@jarvis/core";
import { decodeEnvelope } from "./messages/envelopes.js";
import type { Unlocked } from "./session-node.js";

/**
 * Turns one authenticated frame from a peer into the right service call. The sender is the
 * peer that proved its key on the channel; anything from a key that is not a contact, or that
 * does not parse, is dropped and counted. Unknown bodies are ignored (newer peers).
 */
export function handlePeerFrame(unlocked: Unlocked, key: Buffer, payload: Buffer, log: Logger): void {
  const { account, contacts, messaging, groups } = unlocked;
  const contact = account.contactByKey(key);
  if (!contact) {
    account.drops.unknownSender++;
    return;
  }
  let envelope;
  try {
    envelope = decodeEnvelope(payload);
  } catch {
    account.drops.malformed++;
    return;
  }
  try {
    const body = envelope.body;
    switch (body.case) {
      case "hello":
        contacts.refreshFromHello(contact, body.value.displayName, validAddress(body.value.advertisedAddress));
        break;
      case "chatMessage":
        messaging.receiveChat(contact, body.value);
        break;
      case "groupMessage":
        groups.receiveMessage(contact, body.value);
        break;
      case "groupUpdate":
        groups.receiveUpdate(contact, body.value);
        break;
      case "ack":
        messaging.receiveAck(contact, body.value);
        break;
      case "receipt":
        messaging.receiveReceipt(contact, body.value, (groupId, uid) => groups.isMember(groupId, uid));
        break;
      default:
        // Unknown or network-level bodies (goodbye, future types) are ignored on purpose.
        break;
    }
  } catch (error) {
    log.error({ err: error, peer: contact.uid.slice(0, 8), body: envelope.body.case }, "handling a peer envelope failed");
  }
}

function validAddress(address: string): string {
  try {
    parseHostPort(address);
    return address;
  } catch {
    return "";
  }
}
