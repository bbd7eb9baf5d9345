import { expect } from "vitest";
import { fingerprintOf, newMessageId } from "@jarvis/core";
import { encodeLinkCode } from "@jarvis/session/testing";
import { TestNode } from "../helpers/cli.js";
import type { AttackStep } from "./group-and-name-attacks.js";
import { ackFor, chat, envelope, person, Victim, type Person } from "./peer-kit.js";

/**
 * Issue 15, "text from peers is data", against a real node: every string a peer controls
 * (its name in a card and in Hello, its message text, the addresses in its card) carries
 * terminal escapes (OSC title, screen clear, ESC c full reset) and bidi controls. No output of
 * the `jarvis` command may carry them to the terminal, error messages included.
 */
const NASTY = "\x1b]0;owned\x07\x1b[2J\x1bc\u202etxt\u2066";
/** ESC, the 8-bit CSI/OSC, BEL, and the bidi controls the sanitiser removes. */
// eslint-disable-next-line no-control-regex -- finding these is the point
const RAW_CONTROL = /[\x1b\x07\x9b\x9d\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]/;

/** The steps run against `victim` (a fresh node of their own unless given one that has run other attacks). */
export function terminalAttacks(victim = new Victim(new TestNode("bob"))): { victim: Victim; contacts: Person[]; steps: AttackStep[] } {
  const bob = victim.node;
  const mallory = person(`mallory${NASTY}`);
  const codeOf = (p: Person, addresses: string[] = []) =>
    encodeLinkCode({ uid: p.uid, name: p.name, publicKey: Buffer.from(p.keys.publicKey), addresses, fingerprint: fingerprintOf(Buffer.from(p.keys.publicKey)) });
  const clean = (what: string, text: string) => expect(RAW_CONTROL.test(text), `${what} printed raw control characters: ${JSON.stringify(text)}`).toBe(false);

  const addTwice: AttackStep = {
    name: "adding a known contact whose card name holds escapes again fails with an error line that carries none of them",
    timeoutMs: 60_000,
    async run() {
      const again = await bob.cli(["contact", "add", codeOf(mallory)]);
      expect(again.code).not.toBe(0);
      clean("contact add (again), stderr", again.stderr);
      clean("contact add (again), stdout", again.stdout);
    },
  };

  const peerStrings: AttackStep = {
    name: "a contact's Hello name, message text and card addresses with escapes reach no output raw",
    timeoutMs: 60_000,
    async run() {
      const peer = await victim.dial(mallory, false);
      peer.send(envelope({ case: "hello", value: { $typeName: "jarvis.peer.v1.Hello", protocolVersion: 1, capabilities: [NASTY], displayName: `carol${NASTY}`, advertisedAddress: `127.0.0.1:1${NASTY}`, replyRequested: false } }));
      const id = newMessageId();
      peer.send(chat(id, `hello ${NASTY} there`));
      await ackFor(peer, id);
      const outsider = person(`eve${NASTY}`);
      const added = await bob.cli(["contact", "add", codeOf(outsider, [`127.0.0.1:2${NASTY}`])]);
      clean("contact add with a hostile address, stderr", added.stderr);
      clean("contact add with a hostile address, stdout", added.stdout);
      for (const args of [["status"], ["contacts"], ["history", mallory.uid], ["groups"]]) {
        const out = await bob.cli(args);
        clean(`jarvis ${args.join(" ")}, stdout`, out.stdout);
        clean(`jarvis ${args.join(" ")}, stderr`, out.stderr);
      }
      expect((await bob.ok(["history", mallory.uid])).includes("there")).toBe(true);
    },
  };

  return { victim, contacts: [mallory], steps: [addTwice, peerStrings] };
}
