import { expect } from "vitest";

/** Asserts that action throws an instance of ErrorClass whose stable `code` is `code`. */
export function expectErrorCode<E extends Error & { code: string }>(action: () => unknown, ErrorClass: new (...args: never[]) => E, code: E["code"]): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ErrorClass);
  expect((caught as E).code).toBe(code);
}
