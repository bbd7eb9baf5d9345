// Latency summaries: percentiles of a list of millisecond samples.

/** p50/p99/max (ms, two decimals) of `samples`; zeros for an empty list. */
export function latencySummary(samples) {
  const sorted = Float64Array.from(samples).sort();
  const at = (q) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  const r = (x) => Math.round(x * 100) / 100;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(sorted.length === 0 ? 0 : sorted[sorted.length - 1]), samples: sorted.length };
}
