// Promise.withResolvers for Node 20. libp2p 3.x and its modules (it-queue, mortice, yamux,
// noise) call it, and it is only built into Node >= 22 (tooling notes §7). Loaded with
// `node --import` into the libp2p bench processes only, never into our services.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((yes, no) => ((resolve = yes), (reject = no)));
    return { promise, resolve, reject };
  };
}
