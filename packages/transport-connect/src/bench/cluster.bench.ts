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
const lines: string[] = [];
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
  lines.push(
    `| ${c.outstanding} outstanding, proposeBatch of ${c.batch} | ${Math.round(committed / seconds)} | ${(((result.cpuMicros as number) / 1e6 / seconds) * 100).toFixed(0)}% |`,
  );
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

const totals = new Map<string, number>();
for (const file of readdirSync(profileDir)) {
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
if (process.env.KEEP_PROFILES === undefined) rmSync(profileDir, { recursive: true, force: true });
else console.log("profiles in", profileDir);
const counted = ([k]: [string, number]) => k !== "idle" && k !== "profiler";
const busy = [...totals].filter(counted).reduce((n, [, v]) => n + v, 0);
console.log("| case | commits/s | leader CPU |");
console.log("| --- | ---: | ---: |");
for (const l of lines) console.log(l);
console.log("\nCPU profile of all three members while the load ran (busy samples only):\n");
console.log("| where | CPU ms | share |");
console.log("| --- | ---: | ---: |");
for (const [k, v] of [...totals].filter(counted).sort((a, b) => b[1] - a[1])) {
  console.log(`| ${k} | ${Math.round(v / 1000)} | ${((v / busy) * 100).toFixed(1)}% |`);
}
process.exit(0);
