import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { HOT_PATH_CODECS } from "./wire-codecs.js";
import { SEND_STREAM_WINDOW } from "./src/constants.js";

/**
 * How the session's gRPC server is tuned for its hot path, in one place so that `jarvis up`
 * (main.ts) and the in-process bench serve the API the same way.
 */
export const SESSION_SERVER_TUNING = {
  codecs: HOT_PATH_CODECS,
  // SendMessages answers a group commit (up to a window) at once: let a window of answers wait
  // unwritten, so the stream reads on. Each echoes its message, which the window held anyway.
  queuedResponses: { [`${SessionService.typeName}/SendMessages`]: SEND_STREAM_WINDOW },
};
