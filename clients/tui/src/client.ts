import type { Client } from "@connectrpc/connect";
import type { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";

export type SessionClient = Client<typeof SessionService>;
