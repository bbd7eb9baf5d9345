import type { Clock, Logger } from "@jarvis/core";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { GroupRepo } from "./group-repo.js";
import type { MessageRepo } from "../messages/message-repo.js";
import type { Card, DropCounters, Group, GroupView } from "../model.js";
import type { ContactService } from "../contacts/contact-service.js";
import type { Outgoing } from "../messages/outgoing.js";
import type { Acks } from "../messages/acks.js";
import type { Conversations } from "../messages/conversations.js";

/** What the group service and its inbound rules work with (one module, so neither imports the other's). */
export interface GroupServiceDeps {
  clock: Clock;
  log: Logger;
  uow: UnitOfWork;
  groups: GroupRepo;
  messages: MessageRepo;
  contacts: ContactService;
  outgoing: Outgoing;
  conversations: Conversations;
  acks: Acks;
  drops: DropCounters;
  ownUid: string;
  ownCard: () => Card;
  view: (group: Group) => GroupView;
}
