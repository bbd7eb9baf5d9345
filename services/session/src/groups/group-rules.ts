import { InvalidArgumentError } from "@jarvis/core";
import { MAX_GROUP_NAME } from "../constants.js";

export function checkName(name: string): string {
  const clean = name.trim();
  if (clean.length === 0 || clean.length > MAX_GROUP_NAME) throw new InvalidArgumentError(`group name must be 1 to ${MAX_GROUP_NAME} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(clean)) throw new InvalidArgumentError("group name must not contain control characters");
  return clean;
}
