#!/usr/bin/env node
// raftkv-bench: load an etcd-API endpoint, measure the generator's ceiling, or compare a
// raftkv cluster with an etcd cluster on this machine. `raftkv-bench help` lists usage.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ClusterDriver, createEtcdDriver, createRaftkvDriver } from "./cluster-driver.js";
import { type ComparisonReport, runComparison } from "./comparison.js";
import { verifyPutCount } from "./count-verification.js";
import { summarizeCpuProfile } from "./cpu-profile.js";
import { parseEndpoint } from "./endpoint.js";
import { BenchError, InvalidOptionError } from "./errors.js";
import { readRevision } from "./etcd-api.js";
import { measureGeneratorCeiling } from "./generator-ceiling.js";
import { GrpcUnaryConnection } from "./grpc-unary-connection.js";
import { runLoad } from "./load-generator.js";
import type { LoadResult } from "./load-result.js";
import {
  countMismatches,
  renderComparison,
  type ServerProfile,
  writeSection,
} from "./markdown-report.js";
import { OPERATIONS, type Operation } from "./workload.js";

const USAGE = `raftkv-bench <command> [flags]

commands:
  compare   start a 3-member cluster of each server in turn, run the load matrix
            (puts at c=1,16,128,512; linearizable and serializable ranges at c=128),
            and write the results into docs/benchmarks.md
              --quick               short smoke run (10k keys, 2 s windows); prints only
              --servers etcd,raftkv which servers to run (default both; raftkv is skipped
                                    with the reason when apps/server/dist/cli.js is missing)
              --etcd-binary PATH    default /usr/bin/etcd
              --raftkv-cli PATH     default apps/server/dist/cli.js
              --docs PATH           markdown file to update (default docs/benchmarks.md;
                                    full runs only, unless --write)
              --write / --no-write  force writing the docs section, or skip it
              --json PATH           also write the raw results as JSON
              --duration SECONDS    measured time per scenario and server (default 15)
              --rounds N            split into N alternating rounds (default 3)
              --warmup SECONDS      unmeasured load before each round (default 1.5)
              --workers N --keys N
              --order paired|sequential   paired (default): both clusters up, each
                                    scenario on both servers back to back, alternating
                                    which goes first; sequential: one cluster at a time
              --no-ceiling --no-h2load --data-root DIR
              --profile DIR         run raftkv members under node --cpu-prof into DIR
                                    and add the leader's top functions to the report
  profile   print the functions with the most self time in a .cpuprofile
              FILE [--top N] [--by function|package]
  load      run one load against running servers and print ops/s and latency
              --endpoints host:port[,host:port…]  (required)
              --op put|range-linearizable|range-serializable   (default put)
              --concurrency N (default 128) --connections N --workers N
              --warmup SECONDS (default 2) --duration SECONDS (default 10)
              --keys N (default 100000) --value-bytes N (default 256)
              --verify   puts: check the revision delta against the successful puts
  ceiling   measure the generator against a canned in-process server
              --concurrency N (default 512) --workers N --duration SECONDS
  help      this text`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidOptionError(`--${name} must be seconds ≥ 0`);
  return Math.round(n * 1000);
}

function whole(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidOptionError(`--${name} must be a whole number ≥ 1`);
  return n;
}

function printLoad(result: LoadResult): void {
  const l = result.latencyMs;
  console.log(
    `${result.workload.operation} c=${result.concurrency} (${result.connections} connections, ${result.workers} processes): ` +
      `${Math.round(result.opsPerSecond)} ops/s over ${(result.windowMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `latency ms: p50 ${l.p50.toFixed(2)}  p90 ${l.p90.toFixed(2)}  p99 ${l.p99.toFixed(2)}  p99.9 ${l.p999.toFixed(2)}  max ${l.max.toFixed(2)}`,
  );
  console.log(
    `calls: ${result.ok} ok, ${result.failed} failed${result.failed ? ` ${JSON.stringify(result.errors)}; first: ${result.firstError}` : ""}`,
  );
  console.log(
    `generator CPU: ${result.measured ? ((result.generatorCpuMs * 1000) / result.measured).toFixed(1) : "—"} µs per call`,
  );
  if (result.aborted) console.log(`stopped early: ${result.aborted}`);
}

async function compare(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      quick: { type: "boolean", default: false },
      servers: { type: "string", default: "etcd,raftkv" },
      "etcd-binary": { type: "string" },
      "raftkv-cli": { type: "string" },
      docs: { type: "string" },
      write: { type: "boolean" },
      "no-write": { type: "boolean" },
      json: { type: "string" },
      workers: { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      rounds: { type: "string" },
      keys: { type: "string" },
      "no-ceiling": { type: "boolean", default: false },
      "no-h2load": { type: "boolean", default: false },
      "data-root": { type: "string" },
      profile: { type: "string" },
      order: { type: "string", default: "paired" },
    },
  });
  if (values.order !== "paired" && values.order !== "sequential") {
    throw new InvalidOptionError("--order must be paired or sequential");
  }
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const drivers: ClusterDriver[] = [];
  for (const name of (values.servers ?? "").split(",").filter(Boolean)) {
    if (name === "etcd") drivers.push(createEtcdDriver({ binary: values["etcd-binary"] }));
    else if (name === "raftkv")
      drivers.push(
        createRaftkvDriver({
          cliPath: values["raftkv-cli"],
          nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
        }),
      );
    else throw new InvalidOptionError(`--servers: unknown server ${JSON.stringify(name)}`);
  }
  if (drivers.length === 0) throw new InvalidOptionError("--servers names no server");
  const report = await runComparison({
    drivers,
    quick: values.quick,
    workers: whole(values.workers, "workers"),
    warmupMs: values.warmup === undefined ? undefined : seconds(values.warmup, "warmup", 0),
    durationMs: values.duration === undefined ? undefined : seconds(values.duration, "duration", 0),
    keySpace: whole(values.keys, "keys"),
    rounds: whole(values.rounds, "rounds"),
    ceiling: !values["no-ceiling"],
    h2load: values["no-h2load"] ? false : undefined,
    dataRoot: values["data-root"],
    order: values.order,
    log: (line) => console.log(line),
  });
  const command = `pnpm --filter raftkv-bench compare${args.length ? ` ${args.join(" ")}` : ""}`;
  const profiles = profileDir ? collectProfiles(report, profileDir) : [];
  const markdown = renderComparison(report, command, profiles);
  console.log(`\n${markdown}`);
  const write = values["no-write"] ? false : (values.write ?? !values.quick);
  if (write) {
    const docs = resolve(values.docs ?? resolve(root, "docs/benchmarks.md"));
    writeSection(docs, markdown);
    console.log(`wrote the cluster section of ${docs}`);
  }
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify(
        report,
        (_, v) =>
          typeof v === "bigint" ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v,
        2,
      ),
    );
  }
  const mismatches = countMismatches(report);
  for (const m of mismatches) console.error(`COUNT MISMATCH: ${m}`);
  const failedServers = report.servers.filter((s) => s.error);
  for (const s of failedServers) console.error(`${s.server} stopped early: ${s.error}`);
  return mismatches.length > 0 || failedServers.length > 0 ? 1 : 0;
}

/** The raftkv members' profiles in `dir` (Node names them CPU.<date>.<time>.<pid>.…), leader first. */
function collectProfiles(report: ComparisonReport, dir: string): ServerProfile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const out: ServerProfile[] = [];
  for (const run of report.servers) {
    for (const member of run.members) {
      const file = files.find((f) => f.split(".")[3] === String(member.pid));
      if (!file) continue;
      out.push({
        server: run.server,
        member: member.name,
        isLeader: member.name === run.leader,
        // One more than shown: the "(idle)" entry is left out of the tables.
        byPackage: summarizeCpuProfile(join(dir, file), 13, "package"),
        byFunction: summarizeCpuProfile(join(dir, file), 16, "function"),
      });
    }
  }
  if (out.length === 0) {
    console.error(
      `no CPU profiles of the members in ${dir}: node writes one only when a member exits normally (on SIGTERM)`,
    );
  }
  // Only the leader's: followers do the same apply work without the client traffic.
  return out.filter((p) => p.isLeader);
}

async function profile(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { top: { type: "string" }, by: { type: "string", default: "function" } },
  });
  if (positionals.length !== 1) throw new InvalidOptionError("profile takes one .cpuprofile file");
  if (values.by !== "function" && values.by !== "package") {
    throw new InvalidOptionError("--by must be function or package");
  }
  const top = whole(values.top, "top", 25);
  for (const e of summarizeCpuProfile(positionals[0] as string, top, values.by)) {
    console.log(
      `${e.selfPercent.toFixed(1).padStart(5)}% of all  ${e.busyPercent.toFixed(1).padStart(5)}% of busy  ${e.selfMs.toFixed(0).padStart(8)} ms  ${e.frame}`,
    );
  }
  return 0;
}

async function load(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      endpoints: { type: "string" },
      op: { type: "string", default: "put" },
      concurrency: { type: "string", default: "128" },
      connections: { type: "string" },
      workers: { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      keys: { type: "string" },
      "value-bytes": { type: "string" },
      verify: { type: "boolean", default: false },
    },
  });
  if (!values.endpoints) throw new InvalidOptionError("--endpoints is required");
  const endpoints = values.endpoints.split(",").filter(Boolean);
  const operation = values.op as Operation;
  if (!OPERATIONS.includes(operation)) {
    throw new InvalidOptionError(`--op must be one of ${OPERATIONS.join(", ")}`);
  }
  const valueBytes =
    values["value-bytes"] === undefined ? undefined : Number(values["value-bytes"]);
  const probe =
    values.verify && operation === "put"
      ? await GrpcUnaryConnection.connect(parseEndpoint(endpoints[0] as string))
      : null;
  try {
    const before = probe ? await readRevision(probe) : 0n;
    const result = await runLoad({
      endpoints,
      workload: { operation, keySpace: whole(values.keys, "keys"), valueBytes },
      concurrency: whole(values.concurrency, "concurrency") as number,
      connections: whole(values.connections, "connections"),
      workers: whole(values.workers, "workers"),
      warmupMs: seconds(values.warmup, "warmup", 2000),
      durationMs: seconds(values.duration, "duration", 10_000),
    });
    printLoad(result);
    if (probe) {
      const verification = verifyPutCount(
        before,
        await readRevision(probe),
        result.ok,
        result.failed,
      );
      console.log(verification.summary);
      if (!verification.consistent) return 1;
    }
    return result.aborted ? 1 : 0;
  } finally {
    await probe?.close();
  }
}

async function ceiling(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      concurrency: { type: "string" },
      workers: { type: "string" },
      duration: { type: "string" },
    },
  });
  const result = await measureGeneratorCeiling({
    concurrency: whole(values.concurrency, "concurrency"),
    workers: whole(values.workers, "workers"),
    durationMs: seconds(values.duration, "duration", 5000),
  });
  printLoad(result.load);
  console.log(
    `canned server CPU: ${result.serverCpuUsPerCall.toFixed(1)} µs per call; one generator core ≈ ${Math.round(result.callsPerCoreSecond)} calls/s`,
  );
  if (result.h2load) {
    console.log(`h2load on the same server: ${Math.round(result.h2load.requestsPerSecond)} req/s`);
  }
  return 0;
}

// Exiting on a signal runs the "exit" handlers, which kill the members of any cluster
// still running and remove its temporary directory.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<number>> = {
  compare,
  load,
  ceiling,
  profile,
};
const run = command ? commands[command] : undefined;
if (!run) {
  console.log(USAGE);
  process.exit(command === "help" || command === undefined ? 0 : 2);
}
try {
  process.exitCode = await run(rest);
} catch (error) {
  if (
    error instanceof BenchError ||
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
  ) {
    console.error(`raftkv-bench ${command}: ${(error as Error).message}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
