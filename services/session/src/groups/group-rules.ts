import { InvalidArgumentError } from "@jarvis/core";

/** Limits and name rules of groups, the same for groups we create and groups we are told about. */
export const MAX_GROUP_MEMBERS = 64;
export const MAX_GROUP_NAME = 64;

export function checkName(name: string): string {
  const clean = name.trim();
  if (clean.length === 0 || clean.length > MAX_GROUP_NAME) throw new InvalidArgumentError(`group name must be 1 to ${MAX_GROUP_NAME} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(clean)) throw new InvalidArgumentError("group name must not contain control characters");
  return clean;
}
