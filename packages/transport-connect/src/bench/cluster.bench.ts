/**
 * A 3-process cluster write benchmark: raft-core RaftNodes with in-memory log stores,
 * connected by this transport, the leader proposing 256-byte entries in a closed loop.
 * Every member is profiled (V8 sampling profiler, only while the load runs); the profiles are split into the transport
 * (this package plus node's http2/net/stream internals it drives), raft-core, and the
 * rest, to show how much of the cluster's CPU the transport takes.
 * Run: `pnpm --filter @raftkv/transport-connect exec tsx src/bench/cluster.bench.ts`
 * (BENCH_SECONDS, default 5).
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const profileDir = mkdtempSync(join(tmpdir(), "raftkv-cluster-prof-"));

interface Reply {
  cmd: string;
  [key: string]: unknown;
}

function ask(child: ChildProcess, cmd: string, extra: object = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const onMessage = (m: Reply) => {
      if (m.cmd !== cmd) return;
      child.off("message", onMessage);
      resolve(m);
    };
    child.on("message", onMessage);
    child.send({ cmd, ...extra });
  });
}

const children = [1, 2, 3].map((id) =>
  fork(new URL("./cluster-member.ts", import.meta.url), [String(id)], {
    execArgv: ["--import", "tsx"],
  }),
);
const urls = await Promise.all(
  children.map(
    (c) =>
      new Promise<[number, string]>((r) =>
        c.once("message", (m: { id: number; url: string }) => r([m.id, m.url])),
      ),
  ),
);
for (const c of children) c.send({ cmd: "peers", peers: urls });

let leader: ChildProcess | undefined;
while (leader === undefined) {
  await new Promise((r) => setTimeout(r, 100));
  for (const c of children) if ((await ask(c, "status")).leader === true) leader = c;
}

const cases = [
  { outstanding: 256, batch: 1 },
  { outstanding: 4096, batch: 64 },
];
const caseResults: {
  label: string;
  committed: number;
  seconds: number;
  leaderCpu: number;
  prefix: string;
}[] = [];
for (const [n, c] of cases.entries()) {
  await Promise.all(children.map((child) => ask(child, "profile-start")));
  const result = await ask(leader, "load", { seconds: SECONDS, bytes: 256, ...c });
  await Promise.all(
    children.map((child, i) =>
      ask(child, "profile-stop", { file: join(profileDir, `case${n}-member${i + 1}.cpuprofile`) }),
    ),
  );
  const committed = result.committed as number;
  const seconds = result.seconds as number;
  caseResults.push({
    label: `${c.outstanding} outstanding, proposeBatch of ${c.batch}`,
    committed,
    seconds,
    leaderCpu: (result.cpuMicros as number) / 1e6 / seconds,
    prefix: `case${n}-`,
  });
}
await Promise.all(
  children.map(
    (c) =>
      new Promise((r) => {
        c.once("exit", r);
        c.send({ cmd: "exit" });
      }),
  ),
);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** The owner of one stack frame, or undefined for code that belongs to no one in particular. */
function owner(node: ProfileNode): string | undefined {
  const { url, functionName } = node.callFrame;
  if (url.includes("/transport-connect/src/bench/"))
    return "benchmark harness (load generator, state machine)";
  if (url.includes("/transport-connect/")) return "transport: @raftkv/transport-connect";
  if (/^node:(internal\/http2|net$|internal\/stream_base_commons|internal\/net)/.test(url)) {
    return "transport: node http2/net";
  }
  if (url.includes("/raft-core/")) return "raft-core";
  if (url === "node:inspector" || (functionName === "dispatch" && url === "")) return "profiler";
  return undefined;
}

/**
 * Charges each sample to the innermost frame with an owner, so a Buffer.concat called by
 * the frame decoder counts as transport and raft-core work called from a transport
 * callback counts as raft-core.
 */
function category(node: ProfileNode, parents: Map<number, ProfileNode>): string {
  for (
    let frame: ProfileNode | undefined = node;
    frame !== undefined;
    frame = parents.get(frame.id)
  ) {
    const found = owner(frame);
    if (found !== undefined) return found;
  }
  const name = node.callFrame.functionName;
  if (name === "(garbage collector)") return "garbage collector (all code)";
  if (name === "(program)") return "(program): native, unattributed";
  if (name === "(idle)") return "idle";
  return "other (event loop, timers, microtask plumbing)";
}

/** CPU µs per category in the profiles whose file name starts with `prefix`. */
function profileTotals(prefix: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const file of readdirSync(profileDir).filter((f) => f.startsWith(prefix))) {
    const profile = JSON.parse(readFileSync(join(profileDir, file), "utf8")) as {
      nodes: ProfileNode[];
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map<number, ProfileNode>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n);
    profile.samples.forEach((sample, i) => {
      const key = category(byId.get(sample)!, parents);
      totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
  }
  return totals;
}

const counted = ([k]: [string, number]) => k !== "idle" && k !== "profiler";
const isTransport = (k: string) => k.startsWith("transport:");
console.log(
  "| case | commits/s | leader CPU | transport CPU µs per commit (3 members) | transport share of busy CPU | raft-core share | GC share |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
const all = new Map<string, number>();
for (const r of caseResults) {
  const totals = profileTotals(r.prefix);
  for (const [k, v] of totals) all.set(k, (all.get(k) ?? 0) + v);
  const busy = [...totals].filter(counted).reduce((n, [, v]) => n + v, 0);
  const transport = [...totals].filter(([k]) => isTransport(k)).reduce((n, [, v]) => n + v, 0);
  const share = (k: string) => `${(((totals.get(k) ?? 0) / busy) * 100).toFixed(0)}%`;
  console.log(
    `| ${r.label} | ${Math.round(r.committed / r.seconds)} | ${(r.leaderCpu * 100).toFixed(0)}% | ${(transport / r.committed).toFixed(1)} | ${((transport / busy) * 100).toFixed(0)}% | ${share("raft-core")} | ${share("garbage collector (all code)")} |`,
  );
}
const busy = [...all].filter(counted).reduce((n, [, v]) => n + v, 0);
console.log(
  "\nCPU profile of all three members while the load ran, both cases (busy samples only):\n",
);
console.log("| where | CPU ms | share |");
console.log("| --- | ---: | ---: |");
for (const [k, v] of [...all].filter(counted).sort((a, b) => b[1] - a[1])) {
  console.log(`| ${k} | ${Math.round(v / 1000)} | ${((v / busy) * 100).toFixed(1)}% |`);
}
if (process.env.KEEP_PROFILES === undefined) rmSync(profileDir, { recursive: true, force: true });
else console.log("profiles in", profileDir);
process.exit(0);
