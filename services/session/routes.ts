import { create, fromJson } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { SessionService, type SubscribeResponse } from "@jarvis/proto/jarvis/session/v1/session_service";
import { PeerStatusSchema, UnreadCountSchema } from "@jarvis/proto/jarvis/session/v1/resources";
import { PeerStatsSchema } from "@jarvis/proto/jarvis/network/v1/peer";
import { InvalidArgumentError, isGroupId, type Logger } from "@jarvis/core";
import type { SessionNode, Unlocked } from "./src/session-node.js";
import { decodeLinkCode, validateCard } from "./src/contacts/card-codec.js";
import { contactToProto, eventToProto, groupToProto, identityToProto, messageToProto, presenceToProto } from "./convert.js";

const MAX_PAGE = 1000;
const DEFAULT_PAGE = 50;

function required(value: string, field: string): string {
  if (value.trim().length === 0) throw new InvalidArgumentError(`${field} is required`);
  return value;
}

function password(value: string, field = "password"): string {
  if (value.length === 0) throw new InvalidArgumentError(`${field} is required`);
  if (value.length > 1024) throw new InvalidArgumentError(`${field} is too long`);
  return value;
}

/**
 * SessionService handlers: argument checks and proto translation only. Domain errors are
 * mapped to gRPC status codes by the server's interceptor (@jarvis/rpc).
 */
export function createSessionRoutes(node: SessionNode, logger: Logger, onShutdown: () => void) {
  const conversationOf = (u: Unlocked, conversation: string) => {
    required(conversation, "conversation");
    return isGroupId(conversation.trim()) ? u.groups.resolve(conversation).id : u.contacts.resolve(conversation).uid;
  };
  return (router: ConnectRouter) =>
    router.service(SessionService, {
      getStatus() {
        return node.status();
      },
      async createIdentity(req) {
        required(req.name, "name");
        const identity = await node.createIdentity(req.name, password(req.password));
        return { identity: identityToProto(identity, node.requireUnlocked().account.ownCard()) };
      },
      async unlock(req) {
        const identity = await node.unlock(password(req.password));
        return { identity: identityToProto(identity, node.requireUnlocked().account.ownCard()) };
      },
      async lock() {
        await node.lock();
        return {};
      },
      async changePassword(req) {
        await node.changePassword(password(req.oldPassword, "old_password"), password(req.newPassword, "new_password"));
        return {};
      },
      async deleteIdentity(req) {
        await node.deleteIdentity(password(req.password));
        return {};
      },
      async exportAccount(req) {
        return { archive: await node.exportAccount(password(req.password)) };
      },
      async importAccount(req) {
        if (req.archive.length === 0) throw new InvalidArgumentError("archive is required");
        const identity = await node.importAccount(req.archive, password(req.password));
        return { identity: identityToProto(identity, node.requireUnlocked().account.ownCard()) };
      },
      getIdentity() {
        const { account } = node.requireUnlocked();
        return { identity: identityToProto(account.identity, account.ownCard()) };
      },
      addContact(req) {
        const u = node.requireUnlocked();
        let card;
        if (req.source.case === "linkCode") card = decodeLinkCode(req.source.value);
        else if (req.source.case === "card") card = validateCard(req.source.value);
        else throw new InvalidArgumentError("a link code or a card is required");
        const contact = u.contacts.add(card, req.alias.trim());
        return { contact: contactToProto(contact, u.account.presenceOf(contact.uid)) };
      },
      listContacts() {
        const u = node.requireUnlocked();
        return { contacts: u.contacts.list().map((c) => contactToProto(c, u.account.presenceOf(c.uid))) };
      },
      getContact(req) {
        const u = node.requireUnlocked();
        const contact = u.contacts.resolve(required(req.contact, "contact"));
        return { contact: contactToProto(contact, u.account.presenceOf(contact.uid)) };
      },
      updateContact(req) {
        const u = node.requireUnlocked();
        const contact = u.contacts.update(required(req.contact, "contact"), { alias: req.alias, verified: req.verified, sendReceipts: req.sendReceipts });
        return { contact: contactToProto(contact, u.account.presenceOf(contact.uid)) };
      },
      async removeContact(req) {
        const u = node.requireUnlocked();
        u.contacts.remove(required(req.contact, "contact"));
        return {};
      },
      getSafetyNumber(req) {
        const { digits, formatted } = node.requireUnlocked().contacts.safetyNumber(required(req.contact, "contact"));
        return { safetyNumber: digits, formatted };
      },
      async sendMessage(req) {
        const u = node.requireUnlocked();
        const target = required(req.conversation, "conversation").trim();
        const message = isGroupId(target) ? await u.groups.send(target, req.text) : await u.messaging.sendDirect(u.contacts.resolve(target), req.text);
        return { message: messageToProto(message) };
      },
      listMessages(req) {
        const u = node.requireUnlocked();
        if (req.limit > MAX_PAGE) throw new InvalidArgumentError(`limit must be at most ${MAX_PAGE}`);
        if (req.before > 0n && req.after > 0n && req.before <= req.after) throw new InvalidArgumentError("before must be greater than after");
        const page = u.account.messages.page(conversationOf(u, req.conversation), {
          before: Number(req.before),
          after: Number(req.after),
          limit: req.limit || DEFAULT_PAGE,
        });
        return { messages: page.messages.map(messageToProto), hasMore: page.hasMore };
      },
      markRead(req) {
        const u = node.requireUnlocked();
        return { marked: u.messaging.markRead(conversationOf(u, req.conversation)) };
      },
      getUnreadCounts() {
        const { counts, total } = node.requireUnlocked().account.messages.unreadCounts();
        return { counts: counts.map((c) => create(UnreadCountSchema, c)), total };
      },
      createGroup(req) {
        const u = node.requireUnlocked();
        const group = u.groups.create(required(req.name, "name"), req.members);
        return { group: groupToProto(group, u.account.groupPresence(group)) };
      },
      listGroups() {
        const u = node.requireUnlocked();
        return { groups: u.groups.list().map((g) => groupToProto(g, u.account.groupPresence(g))) };
      },
      getGroup(req) {
        const u = node.requireUnlocked();
        const group = u.groups.resolve(required(req.group, "group"));
        return { group: groupToProto(group, u.account.groupPresence(group)) };
      },
      addGroupMembers(req) {
        const u = node.requireUnlocked();
        if (req.members.length === 0) throw new InvalidArgumentError("members are required");
        const group = u.groups.addMembers(required(req.group, "group"), req.members);
        return { group: groupToProto(group, u.account.groupPresence(group)) };
      },
      leaveGroup(req) {
        node.requireUnlocked().groups.leave(required(req.group, "group"));
        return {};
      },
      deleteGroup(req) {
        node.requireUnlocked().groups.delete(required(req.group, "group"));
        return {};
      },
      async listPeers() {
        const peers = await node.listPeers();
        return {
          peers: peers.map((p) =>
            create(PeerStatusSchema, {
              uid: p.uid,
              name: p.name,
              presence: presenceToProto(p.presence),
              address: p.peer?.address ?? "",
              stats: p.peer ? fromJson(PeerStatsSchema, p.peer.stats as never, { ignoreUnknownFields: true }) : undefined,
            }),
          ),
        };
      },
      async connectPeer(req) {
        await node.connectPeer(required(req.contact, "contact"), req.address.trim());
        return {};
      },
      subscribe(req, ctx) {
        return subscribe(node, req.afterCursor, req.liveOnly, ctx);
      },
      shutdown() {
        logger.info({}, "shutdown requested over RPC");
        setImmediate(onShutdown);
        return {};
      },
    });
}

async function* subscribe(node: SessionNode, afterCursor: bigint, liveOnly: boolean, ctx: HandlerContext): AsyncGenerator<SubscribeResponse> {
  const { account } = node.requireUnlocked();
  const start = liveOnly ? account.events.latestCursor() : Number(afterCursor);
  for await (const stored of account.events.subscribe(start, ctx.signal)) yield eventToProto(stored);
}

