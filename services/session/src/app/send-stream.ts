import type { Message } from "../model.js";

export interface StreamedSend {
  correlationId: string;
  conversation: string;
  text: string;
  /** Optional idempotency key ("" for none), as in SendMessage. */
  idempotencyKey?: string;
}

export type StreamedSendOutcome = { correlationId: string; message: Message; error?: undefined } | { correlationId: string; error: unknown; message?: undefined };

/**
 * Runs a stream of sends with at most `window` unanswered at a time, answering each in
 * request order. Sends started in the same turn share one group commit (UnitOfWork.write), so
 * a busy client gets batching without asking for it. A request is read only while fewer than
 * `window` are unanswered — whether they are still being stored or the client has not taken
 * their answers — so a client above capacity is held back by the stream's flow control.
 */
export async function* pipelineSends(
  requests: AsyncIterable<StreamedSend>,
  send: (conversation: string, text: string, idempotencyKey: string) => Promise<Message>,
  window: number,
): AsyncGenerator<StreamedSendOutcome> {
  const unanswered: Promise<StreamedSendOutcome>[] = [];
  let readerDone = false;
  let stopped = false;
  let readError: unknown;
  let wakeWriter: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const wake = (waiter: (() => void) | undefined) => waiter?.();

  const start = ({ correlationId, conversation, text, idempotencyKey }: StreamedSend): Promise<StreamedSendOutcome> => {
    let sending: Promise<Message>;
    try {
      sending = send(conversation, text, idempotencyKey ?? "");
    } catch (error) {
      sending = Promise.reject(error);
    }
    return sending.then(
      (message) => ({ correlationId, message }),
      (error: unknown) => ({ correlationId, error }),
    );
  };

  const reader = (async () => {
    try {
      for await (const request of requests) {
        if (stopped) break;
        unanswered.push(start(request));
        wake(wakeWriter);
        while (unanswered.length >= window && !stopped) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (stopped) break;
      }
    } catch (error) {
      readError = error;
    } finally {
      readerDone = true;
      wake(wakeWriter);
    }
  })();

  try {
    for (;;) {
      const next = unanswered[0];
      if (next) {
        const outcome = await next;
        unanswered.shift();
        wake(wakeReader);
        yield outcome;
        continue;
      }
      if (readerDone) break;
      await new Promise<void>((resolve) => (wakeWriter = resolve));
    }
  } finally {
    // The client went away or the stream ended: stop reading; sends already started complete.
    stopped = true;
    wake(wakeReader);
  }
  await reader;
  if (readError !== undefined) throw readError;
}

