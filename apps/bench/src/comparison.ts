import { cpus, loadavg } from "node:os";
import type { ClusterDriver } from "./cluster-driver.js";
import { type CountVerification, verifyPutCount } from "./count-verification.js";
import { parseEndpoint } from "./endpoint.js";
import { readRevision } from "./etcd-api.js";
import { type CeilingResult, measureGeneratorCeiling } from "./generator-ceiling.js";
import { GrpcUnaryConnection } from "./grpc-unary-connection.js";
import { type H2loadResult, h2loadAvailable, runH2load } from "./h2load.js";
import { type LoadResult, runLoad } from "./load-generator.js";
import { LocalCluster } from "./local-cluster.js";
import { type Operation, RequestTemplate, resolveWorkload } from "./workload.js";

/** Options of a raftkv-vs-etcd comparison. */
export interface ComparisonOptions {
  /** Servers to compare, each run as a 3-member cluster in turn. */
  drivers: readonly ClusterDriver[];
  /** Short smoke settings: 10,000 keys, 0.5 s warm-up, 2 s windows. Default false. */
  quick?: boolean;
  /** Default 100000 (quick: 10000). */
  keySpace?: number;
  /** Default 256. */
  valueBytes?: number;
  /** Default [1, 16, 128, 512]. */
  putConcurrencies?: readonly number[];
  /** Concurrency of the linearizable and serializable range runs. Default 128. */
  rangeConcurrency?: number;
  /** Default 3000 (quick: 500). */
  warmupMs?: number;
  /** Default 15000 (quick: 2000). */
  durationMs?: number;
  /** Load processes per run. Default 1: see docs/adr (one process drives >150k calls/s). */
  workers?: number;
  /** Measure the generator against a canned server first. Default true. */
  ceiling?: boolean;
  /** Cross-check with h2load (serializable range of one key). Default: if installed. */
  h2load?: boolean;
  /** Parent of the clusters' temporary directories. Default os.tmpdir(). */
  dataRoot?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One load scenario of the matrix. */
export interface Scenario {
  /** "put c=128", "range (linearizable) c=128", … */
  label: string;
  operation: Operation;
  concurrency: number;
}

/** One scenario's outcome on one server. */
export interface ScenarioResult {
  scenario: Scenario;
  load: LoadResult;
  /** Put runs only: the revision delta check. */
  verification: CountVerification | null;
  /** CPU ms of all members during the window (null if a member vanished). */
  serverCpuMs: number | null;
  /** CPU ms of the leader (the member every call went to). */
  leaderCpuMs: number | null;
}

/** Everything measured on one server. */
export interface ServerRun {
  server: string;
  version: string;
  /** Why this server was not run, or null. */
  skipped: string | null;
  /** Why the run stopped early, or null. */
  error: string | null;
  fill: { load: LoadResult; verification: CountVerification } | null;
  scenarios: ScenarioResult[];
  h2load: H2loadResult | null;
  /** The members that ran, with their pids (to find, say, the leader's CPU profile). */
  members: { name: string; pid: number }[];
  /** The member every call went to. */
  leader: string | null;
}

/** The whole comparison. */
export interface ComparisonReport {
  startedAt: Date;
  finishedAt: Date;
  quick: boolean;
  keySpace: number;
  valueBytes: number;
  warmupMs: number;
  durationMs: number;
  workers: number;
  machine: { cpus: number; model: string; loadAverageAtStart: number[] };
  ceiling: CeilingResult | null;
  servers: ServerRun[];
}

/** The matrix from the issue: puts at four concurrencies, then both kinds of range. */
export function comparisonScenarios(
  putConcurrencies: readonly number[],
  rangeConcurrency: number,
): Scenario[] {
  return [
    ...putConcurrencies.map((c) => ({
      label: `put c=${c}`,
      operation: "put" as const,
      concurrency: c,
    })),
    {
      label: `range (linearizable) c=${rangeConcurrency}`,
      operation: "range-linearizable",
      concurrency: rangeConcurrency,
    },
    {
      label: `range (serializable) c=${rangeConcurrency}`,
      operation: "range-serializable",
      concurrency: rangeConcurrency,
    },
  ];
}

/**
 * Runs the comparison: optionally the generator's ceiling, then for each server a fresh
 * 3-member cluster on this machine, a fill writing every key once (verified), the
 * scenario matrix against the leader (each put run verified by its revision delta), an
 * optional h2load cross-check, and the cluster's removal. A server that cannot run is
 * reported as skipped with the reason; one that fails mid-way keeps its finished
 * scenarios and the error. Never rejects for a server's failure.
 */
export async function runComparison(options: ComparisonOptions): Promise<ComparisonReport> {
  const quick = options.quick ?? false;
  const log = options.log ?? (() => {});
  const keySpace = options.keySpace ?? (quick ? 10_000 : 100_000);
  const valueBytes = options.valueBytes ?? 256;
  const warmupMs = options.warmupMs ?? (quick ? 500 : 3000);
  const durationMs = options.durationMs ?? (quick ? 2000 : 15_000);
  const workers = options.workers ?? 1;
  const scenarios = comparisonScenarios(
    options.putConcurrencies ?? [1, 16, 128, 512],
    options.rangeConcurrency ?? 128,
  );
  const useH2load = options.h2load ?? h2loadAvailable();
  const report: ComparisonReport = {
    startedAt: new Date(),
    finishedAt: new Date(),
    quick,
    keySpace,
    valueBytes,
    warmupMs,
    durationMs,
    workers,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "unknown",
      loadAverageAtStart: loadavg(),
    },
    ceiling: null,
    servers: [],
  };

  if (options.ceiling ?? true) {
    log("generator ceiling: put c=512 against a canned in-process server");
    report.ceiling = await measureGeneratorCeiling({
      workers: Math.max(workers, 1),
      warmupMs: Math.min(warmupMs, 1000),
      durationMs: Math.min(durationMs, 5000),
      h2load: useH2load,
    });
    log(
      `  ${Math.round(report.ceiling.load.opsPerSecond)} calls/s, ${report.ceiling.generatorCpuUsPerCall.toFixed(1)} µs generator CPU per call`,
    );
  }

  for (const driver of options.drivers) {
    const run: ServerRun = {
      server: driver.name,
      version: driver.version(),
      skipped: driver.unavailableReason(),
      error: null,
      fill: null,
      scenarios: [],
      h2load: null,
      members: [],
      leader: null,
    };
    report.servers.push(run);
    if (run.skipped) {
      log(`${driver.name}: skipped (${run.skipped})`);
      continue;
    }
    log(`${driver.name}: starting a 3-member cluster`);
    let cluster: LocalCluster | null = null;
    try {
      cluster = await LocalCluster.start({ driver, dataRoot: options.dataRoot });
      await runMatrix(cluster, run, scenarios, {
        keySpace,
        valueBytes,
        warmupMs,
        durationMs,
        workers,
        useH2load,
        log,
      });
    } catch (error) {
      run.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`${driver.name}: stopped early: ${run.error}`);
    } finally {
      await cluster?.stop();
    }
  }
  report.finishedAt = new Date();
  return report;
}

interface MatrixSettings {
  keySpace: number;
  valueBytes: number;
  warmupMs: number;
  durationMs: number;
  workers: number;
  useH2load: boolean;
  log: (line: string) => void;
}

async function runMatrix(
  cluster: LocalCluster,
  run: ServerRun,
  scenarios: Scenario[],
  settings: MatrixSettings,
): Promise<void> {
  const { member: leader } = await cluster.findLeader();
  run.members = cluster.members.map((m) => ({ name: m.name, pid: m.pid }));
  run.leader = leader.name;
  const endpoints = [leader.clientEndpoint];
  const probe = await GrpcUnaryConnection.connect(parseEndpoint(leader.clientEndpoint));
  const cpuOf = (result: LoadResult): { all: number | null; leader: number | null } => {
    const values = [...result.processCpuMs.values()];
    return {
      all: values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0),
      leader: result.processCpuMs.get(leader.pid) ?? null,
    };
  };
  try {
    settings.log(
      `${run.server}: leader ${leader.name}; fill: every one of ${settings.keySpace} keys once`,
    );
    const fillBefore = await readRevision(probe);
    const fillLoad = await runLoad({
      endpoints,
      workload: { operation: "put", keySpace: settings.keySpace, valueBytes: settings.valueBytes },
      concurrency: 128,
      workers: settings.workers,
      keyOrder: "sequential",
      cpuPids: cluster.pids,
    });
    const fillVerification = verifyPutCount(
      fillBefore,
      await readRevision(probe),
      fillLoad.ok,
      fillLoad.failed,
    );
    run.fill = { load: fillLoad, verification: fillVerification };
    settings.log(
      `  fill: ${Math.round(fillLoad.opsPerSecond)} puts/s; ${fillVerification.summary}`,
    );

    for (const scenario of scenarios) {
      const before = scenario.operation === "put" ? await readRevision(probe) : 0n;
      const load = await runLoad({
        endpoints,
        workload: {
          operation: scenario.operation,
          keySpace: settings.keySpace,
          valueBytes: settings.valueBytes,
        },
        concurrency: scenario.concurrency,
        workers: settings.workers,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
        cpuPids: cluster.pids,
      });
      const verification =
        scenario.operation === "put"
          ? verifyPutCount(before, await readRevision(probe), load.ok, load.failed)
          : null;
      const cpu = cpuOf(load);
      run.scenarios.push({
        scenario,
        load,
        verification,
        serverCpuMs: cpu.all,
        leaderCpuMs: cpu.leader,
      });
      settings.log(
        `  ${scenario.label}: ${Math.round(load.opsPerSecond)} ops/s, p99 ${load.latencyMs.p99.toFixed(2)} ms` +
          `${load.failed > 0 ? `, ${load.failed} failed (${load.firstError})` : ""}` +
          `${verification ? `; ${verification.summary}` : ""}`,
      );
    }

    if (settings.useH2load) {
      const template = new RequestTemplate(
        resolveWorkload({ operation: "range-serializable", keySpace: settings.keySpace }),
      );
      template.setKey(0);
      run.h2load = await runH2load({
        endpoint: parseEndpoint(leader.clientEndpoint),
        path: template.path,
        body: template.frame,
        connections: 16,
        streamsPerConnection: 8,
        // A cross-check, not a scenario: a few seconds tell whether the rates agree.
        durationSeconds: Math.max(1, Math.min(5, Math.round(settings.durationMs / 1000))),
        warmupSeconds: 1,
      });
      settings.log(
        `  h2load serializable range of one key, c=128: ${Math.round(run.h2load.requestsPerSecond)} req/s`,
      );
    }
  } finally {
    await probe.close();
  }
}
