import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { SessionService, SendMessagesResponseSchema, type SubscribeResponse } from "@jarvis/proto/jarvis/session/v1/session_service";
import type { AddContactRequest, SendMessageResponse, SendMessagesRequest, SendMessagesResponse } from "@jarvis/proto/jarvis/session/v1/session_service";
import { statusOf } from "@jarvis/rpc";
import type { Logger } from "@jarvis/core";
import type { ContactSource, SessionApp } from "./src/app/session-app.js";
import { contactToProto, eventToProto, groupToProto, identityToProto, messageToProto, peerToProto, unreadCountToProto } from "./convert.js";

/**
 * Health readiness of the session service (grpc.health.v1): SERVING only when it can do what
 * clients come for, i.e. an identity is unlocked and the network service is reachable. Asked on
 * every health Check, so it is never stale.
 */
export function sessionReadiness(app: Pick<SessionApp, "status">): () => boolean {
  return () => {
    const { identityExists, locked, networkAvailable } = app.status();
    return identityExists && !locked && networkAvailable;
  };
}

/**
 * SessionService handlers: proto ⇄ domain translation only; the rules live in the
 * application layer (src/app). Domain errors are mapped to gRPC status codes by the server's
 * interceptor (@jarvis/rpc).
 */
export function createSessionRoutes(app: SessionApp, logger: Logger, onShutdown: () => void) {
  const identity = () => {
    const { identity, card } = app.identity();
    return { identity: identityToProto(identity, card) };
  };
  return (router: ConnectRouter) =>
    router.service(SessionService, {
      getStatus: () => {
        const status = app.status();
        return { ...status, latestCursor: BigInt(status.latestCursor) };
      },
      async createIdentity(req) {
        await app.createIdentity(req.name, req.password);
        return identity();
      },
      async unlock(req) {
        await app.unlock(req.password);
        return identity();
      },
      async lock() {
        await app.lock();
        return {};
      },
      async changePassword(req) {
        await app.changePassword(req.oldPassword, req.newPassword);
        return {};
      },
      async deleteIdentity(req) {
        await app.deleteIdentity(req.password);
        return {};
      },
      exportAccount: async (req) => ({ archive: await app.exportAccount(req.password) }),
      async importAccount(req) {
        await app.importAccount(req.archive, req.password);
        return identity();
      },
      getIdentity: () => identity(),
      setAdvertisedAddress: (req) => {
        app.setAdvertisedAddress(req.address);
        return identity();
      },
      addContact: (req) => ({ contact: contactToProto(app.addContact(contactSource(req), req.alias)) }),
      listContacts: () => ({ contacts: app.listContacts().map(contactToProto) }),
      getContact: (req) => ({ contact: contactToProto(app.getContact(req.contact)) }),
      updateContact: (req) => ({
        contact: contactToProto(app.updateContact(req.contact, { alias: req.alias, verified: req.verified, sendReceipts: req.sendReceipts })),
      }),
      removeContact(req) {
        app.removeContact(req.contact);
        return {};
      },
      getSafetyNumber: (req) => {
        const { digits, formatted } = app.safetyNumber(req.contact);
        return { safetyNumber: digits, formatted };
      },
      // Whole messages, not init shapes: the server would otherwise run create() on each (the send path is hot).
      sendMessage: async (req): Promise<SendMessageResponse> => ({
        $typeName: "jarvis.session.v1.SendMessageResponse",
        message: messageToProto(await app.sendMessage(req.conversation, req.text, req.idempotencyKey)),
      }),
      sendMessages: (requests) => sendMessages(app, requests),
      listMessages: (req) => {
        const page = app.listMessages(req.conversation, { before: Number(req.before), after: Number(req.after), limit: req.limit });
        return { messages: page.messages.map(messageToProto), hasMore: page.hasMore };
      },
      markRead: async (req) => ({ marked: await app.markRead(req.conversation) }),
      getUnreadCounts: () => {
        const { counts, total } = app.unreadCounts();
        return { counts: counts.map(unreadCountToProto), total };
      },
      createGroup: (req) => ({ group: groupToProto(app.createGroup(req.name, req.members)) }),
      listGroups: () => ({ groups: app.listGroups().map(groupToProto) }),
      getGroup: (req) => ({ group: groupToProto(app.getGroup(req.group)) }),
      addGroupMembers: (req) => ({ group: groupToProto(app.addGroupMembers(req.group, req.members)) }),
      grantGroupAdmin: (req) => ({ group: groupToProto(app.grantGroupAdmin(req.group, req.member)) }),
      removeGroupMember: (req) => ({ group: groupToProto(app.removeGroupMember(req.group, req.member)) }),
      leaveGroup(req) {
        app.leaveGroup(req.group);
        return {};
      },
      deleteGroup(req) {
        app.deleteGroup(req.group);
        return {};
      },
      listPeers: async () => ({ peers: (await app.listPeers()).map(peerToProto) }),
      async connectPeer(req) {
        await app.connectPeer(req.contact, req.address);
        return {};
      },
      subscribe: (req, ctx) => subscribe(app, req.afterCursor, req.liveOnly, ctx),
      shutdown: () => {
        logger.info({}, "shutdown requested over RPC");
        setImmediate(onShutdown);
        return {};
      },
    });
}

function contactSource(req: AddContactRequest): ContactSource | undefined {
  if (req.source.case === "linkCode") return { linkCode: req.source.value };
  if (req.source.case === "card") return { card: req.source.value };
  return undefined;
}

async function* subscribe(app: SessionApp, afterCursor: bigint, liveOnly: boolean, ctx: HandlerContext): AsyncGenerator<SubscribeResponse> {
  for await (const stored of app.subscribe(Number(afterCursor), liveOnly, ctx.signal)) yield eventToProto(stored);
}

/** Each outcome becomes a response; a failed message is reported in its own response (as unary would), never by ending the stream. */
async function* sendMessages(app: SessionApp, requests: AsyncIterable<SendMessagesRequest>): AsyncGenerator<SendMessagesResponse> {
  for await (const outcome of app.sendMessages(requests)) {
    const { correlationId } = outcome;
    if (outcome.message) {
      yield { $typeName: "jarvis.session.v1.SendMessagesResponse", correlationId, result: { case: "message", value: messageToProto(outcome.message) } };
    } else {
      const { grpcCode, errorCode, message } = statusOf(outcome.error);
      yield create(SendMessagesResponseSchema, { correlationId, result: { case: "error", value: { grpcCode, errorCode, message } } });
    }
  }
}
