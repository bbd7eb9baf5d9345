// Waiting for a sink's acks, shared by the in-process senders and the libp2p sender process.

/** Resolves the waiter for the next ack each time onAck() is called; counts unclaimed acks. */
export function acks() {
  const pending = [];
  let early = 0;
  return {
    next: () => {
      if (early > 0) {
        early--;
        return Promise.resolve();
      }
      return new Promise((resolve) => pending.push(resolve));
    },
    onAck: () => {
      const wake = pending.shift();
      if (wake) wake();
      else early++;
    },
  };
}
