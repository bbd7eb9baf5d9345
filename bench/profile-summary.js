// Summarises a V8 .cpuprofile (node --cpu-prof) by self time: the top functions, and groups
// (sqlite / rpc+http2 / crypto / gc / other). Native functions (a better-sqlite3 statement's
// run(), a cipher's update()) have no script url, so they are counted in the group of the
// nearest caller that has one.

const GROUPS = [
  ["sqlite", /better-sqlite3|\/store\/|-repo\.js|event-log|unit-of-work/],
  ["rpc+http2", /@connectrpc|@grpc|@bufbuild\/protobuf|packages\/rpc|packages\/proto|internal\/http2|node:http2|\/routes\.js|\/convert\.js/],
  ["crypto", /internal\/crypto|node:crypto|\/noise\/|@noble/],
];

function groupOfUrl(url) {
  for (const [name, pattern] of GROUPS) if (pattern.test(url)) return name;
  return url ? "other" : undefined;
}

function shortUrl(url) {
  const i = url.lastIndexOf("node_modules/");
  if (i >= 0) return url.slice(i + "node_modules/".length);
  return url.replace(/^file:\/\/.*?\/(services|packages|clients)\//, "$1/");
}

/** { totalMs, idleMs, groups: {name: {ms, percent}}, top: [...] } over the non-idle samples. */
export function summariseProfile(profile, topCount = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const groupOf = (id) => {
    const { functionName } = byId.get(id).callFrame;
    if (functionName === "(garbage collector)") return "gc";
    if (functionName === "(idle)" || functionName === "(program)") return "idle";
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const group = groupOfUrl(byId.get(at).callFrame.url);
      if (group) return group;
    }
    return "other";
  };
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const groups = {};
  const functions = new Map();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const group = groupOf(id);
    if (group === "idle") {
      idleMs += ms;
      continue;
    }
    totalMs += ms;
    groups[group] = (groups[group] ?? 0) + ms;
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
    const entry = functions.get(key) ?? { function: key, group, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
  }
  const pct = (ms) => Math.round((ms / totalMs) * 1000) / 10;
  return {
    busyMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    groups: Object.fromEntries(Object.entries(groups).sort((a, b) => b[1] - a[1]).map(([name, ms]) => [name, { ms: Math.round(ms), percent: pct(ms) }])),
    top: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, topCount).map((f) => ({ ...f, ms: Math.round(f.ms), percent: pct(f.ms) })),
  };
}
