// Same-run, interleaved measurement: a figure and its reference are timed in alternating
// slices, so a change in machine load (this machine is shared) hits both alike.

/** CPU seconds (user + system, all of this process's threads) since `before`. */
function cpuSecondsSince(before) {
  const { user, system } = process.cpuUsage(before);
  return (user + system) / 1e6;
}

/**
 * Runs fn repeatedly for sliceMs; returns {ops, seconds, cpuSeconds}. fn returns how many ops it
 * did. cpuSeconds is what this process spent meanwhile: on a shared machine, a CPU-bound slice's
 * wall time depends on how much of a core it got; its CPU time much less.
 */
export function timeSlice(fn, sliceMs) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let ops = 0;
  let elapsed = 0;
  while (elapsed < sliceMs) {
    ops += fn();
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { ops, seconds: elapsed / 1000, cpuSeconds: cpuSecondsSince(cpu) };
}

/** Times one async run of `ops` operations. */
export async function timeAsync(ops, fn) {
  const start = process.hrtime.bigint();
  await fn();
  return { ops, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/**
 * Alternates slices of `figure` and `ceiling` (async functions returning {ops, seconds}),
 * `rounds` times each, and returns both rates (ops/s over all their slices) and the ratio; when
 * the slices report CPU time, also ops per CPU second of each and that ratio (`cpu`).
 */
export async function interleaved(rounds, figure, ceiling) {
  const total = { figure: { ops: 0, seconds: 0, cpuSeconds: 0 }, ceiling: { ops: 0, seconds: 0, cpuSeconds: 0 } };
  for (let round = 0; round < rounds; round++) {
    // Which goes first alternates too, so neither always runs on a warmer (or busier) machine.
    const order = round % 2 === 0 ? ["figure", "ceiling"] : ["ceiling", "figure"];
    for (const name of order) {
      const slice = await (name === "figure" ? figure() : ceiling());
      total[name].ops += slice.ops;
      total[name].seconds += slice.seconds;
      total[name].cpuSeconds += slice.cpuSeconds ?? NaN;
    }
  }
  const figureRate = total.figure.ops / total.figure.seconds;
  const ceilingRate = total.ceiling.ops / total.ceiling.seconds;
  const result = { figure: figureRate, ceiling: ceilingRate, ratio: round2(figureRate / ceilingRate) };
  if (Number.isNaN(total.figure.cpuSeconds + total.ceiling.cpuSeconds)) return result;
  const figurePerCpu = total.figure.ops / total.figure.cpuSeconds;
  const ceilingPerCpu = total.ceiling.ops / total.ceiling.cpuSeconds;
  return { ...result, cpu: { figure: figurePerCpu, ceiling: ceilingPerCpu, ratio: round2(figurePerCpu / ceilingPerCpu) } };
}

/**
 * Runs each of `kinds` (name → { run: () => Promise<seconds>, sink? }) once a round in rotating
 * order, `rounds` times, so no kind always runs first (on a warmer or busier machine). Sums each
 * kind's seconds and, when it has a sink (a process with cpuMicros()), that process's CPU µs
 * over the kind's slices: a per-operation cost that, unlike a rate, does not depend on how much
 * of a loaded machine the processes got.
 */
export async function rotateSlices(kinds, rounds) {
  const names = Object.keys(kinds);
  const seconds = Object.fromEntries(names.map((name) => [name, 0]));
  const sinkMicros = Object.fromEntries(names.map((name) => [name, 0]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length];
      const { sink, run } = kinds[name];
      const cpuBefore = await sink?.cpuMicros();
      seconds[name] += await run();
      if (sink) sinkMicros[name] += (await sink.cpuMicros()) - cpuBefore;
    }
  }
  return { seconds, sinkMicros };
}

export const round2 = (x) => Math.round(x * 100) / 100;
export const round0 = (x) => Math.round(x);
/** Three significant digits: for small times and ratios that two decimals would round to 0. */
export const sig3 = (x) => Number(x.toPrecision(3));

/** timeSlice for an async fn, awaited one call at a time. */
export async function timeSliceAsync(fn, sliceMs) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let ops = 0;
  let elapsed = 0;
  while (elapsed < sliceMs) {
    ops += await fn();
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { ops, seconds: elapsed / 1000, cpuSeconds: cpuSecondsSince(cpu) };
}
