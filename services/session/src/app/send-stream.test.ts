import { describe, expect, it, vi } from "vitest";
import { InvalidArgumentError } from "@jarvis/core";
import type { Message } from "../model.js";
import { pipelineSends, type StreamedSend } from "./send-stream.js";

/** A send whose completion the test controls. */
function controlledSend() {
  const pending: { text: string; resolve: (m: Message) => void; reject: (e: unknown) => void }[] = [];
  const send = (_conversation: string, text: string) => new Promise<Message>((resolve, reject) => pending.push({ text, resolve, reject }));
  return { pending, send };
}

const messageWith = (text: string) => ({ text }) as Message;
const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe("pipelineSends", () => {
  it("reads no more requests than its window while answers are outstanding, and more as they are answered", async () => {
    let pulled = 0;
    async function* requests(): AsyncGenerator<StreamedSend> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield { correlationId: `c${i}`, conversation: "bob", text: `t${i}` };
      }
    }
    const { pending, send } = controlledSend();
    const answers = pipelineSends(requests(), send, 8);
    const first = answers.next();
    await vi.waitFor(() => expect(pending).toHaveLength(8));
    await flush();
    expect(pulled).toBe(8);

    pending[0]?.resolve(messageWith("t0"));
    expect(await first).toEqual({ done: false, value: { correlationId: "c0", message: messageWith("t0") } });
    await vi.waitFor(() => expect(pending).toHaveLength(9));
    await flush();
    expect(pulled).toBe(9);
    await answers.return(undefined);
  });

  it("answers in request order even when later sends finish first, errors included", async () => {
    const { pending, send } = controlledSend();
    async function* requests(): AsyncGenerator<StreamedSend> {
      for (let i = 0; i < 3; i++) yield { correlationId: `c${i}`, conversation: "bob", text: `t${i}` };
    }
    const collected = (async () => {
      const out = [];
      for await (const answer of pipelineSends(requests(), send, 16)) out.push(answer);
      return out;
    })();
    await vi.waitFor(() => expect(pending).toHaveLength(3));
    pending[2]?.resolve(messageWith("t2"));
    pending[1]?.reject(new InvalidArgumentError("bad", "bad-text"));
    pending[0]?.resolve(messageWith("t0"));
    const out = await collected;
    expect(out.map((a) => a.correlationId)).toEqual(["c0", "c1", "c2"]);
    expect(out[1]?.error).toBeInstanceOf(InvalidArgumentError);
    expect(out[2]?.message?.text).toBe("t2");
  });

  it("reports a send that throws at once as that request's error", async () => {
    async function* one(): AsyncGenerator<StreamedSend> {
      yield { correlationId: "only", conversation: "", text: "x" };
    }
    const throwing = () => {
      throw new InvalidArgumentError("conversation must not be empty");
    };
    const out = [];
    for await (const answer of pipelineSends(one(), throwing, 4)) out.push(answer);
    expect(out).toHaveLength(1);
    expect(out[0]?.error).toBeInstanceOf(InvalidArgumentError);
  });
});
