import { cpus, loadavg } from "node:os";
import type { ClusterDriver } from "./cluster-driver.js";
import { type CountVerification, verifyPutCount } from "./count-verification.js";
import { parseEndpoint } from "./endpoint.js";
import { ClusterStartError, InvalidOptionError } from "./errors.js";
import { readRevision } from "./etcd-api.js";
import { type CeilingResult, measureGeneratorCeiling } from "./generator-ceiling.js";
import { GrpcUnaryConnection } from "./grpc-unary-connection.js";
import { type H2loadResult, h2loadAvailable, runH2load } from "./h2load.js";
import { runLoad } from "./load-generator.js";
import { type LoadResult, mergeLoadResults } from "./load-result.js";
import { type ClusterMember, LocalCluster } from "./local-cluster.js";
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
  /** Unmeasured load before each round. Default 1500 (quick: 500). */
  warmupMs?: number;
  /** Measured time per scenario and server, split evenly over the rounds. Default 15000 (quick: 2000). */
  durationMs?: number;
  /**
   * Rounds per scenario and server. In paired order the servers' rounds alternate
   * (A B B A A B…), so both see the same stretch of the machine's other load; the rounds
   * of one server are merged into one result. Default 3 (quick: 2).
   */
  rounds?: number;
  /** Load processes per run. Default 1: see docs/adr (one process drives >150k calls/s). */
  workers?: number;
  /** Measure the generator against a canned server first. Default true. */
  ceiling?: boolean;
  /** Cross-check with h2load (serializable range of one key). Default: if installed. */
  h2load?: boolean;
  /**
   * "paired" (default): all clusters stay up and each scenario runs on every server back
   * to back, alternating which goes first, so the machine's other load drifts less between
   * the two measurements of a ratio. "sequential": one cluster at a time, all scenarios,
   * then the next server.
   */
  order?: "paired" | "sequential";
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
  /** ops/s of each round, in the order they ran: their spread shows how steady the machine was. */
  roundOpsPerSecond: number[];
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
  order: "paired" | "sequential";
  keySpace: number;
  valueBytes: number;
  warmupMs: number;
  durationMs: number;
  rounds: number;
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
 * optional h2load cross-check, and the cluster's removal; `order` says whether the
 * servers' scenarios interleave. A server that cannot run is reported as skipped with
 * the reason; one that fails mid-way keeps its finished scenarios and the error. Never
 * rejects for a server's failure.
 */
export async function runComparison(options: ComparisonOptions): Promise<ComparisonReport> {
  const quick = options.quick ?? false;
  const log = options.log ?? (() => {});
  const keySpace = options.keySpace ?? (quick ? 10_000 : 100_000);
  const valueBytes = options.valueBytes ?? 256;
  const warmupMs = options.warmupMs ?? (quick ? 500 : 1500);
  const durationMs = options.durationMs ?? (quick ? 2000 : 15_000);
  const rounds = options.rounds ?? (quick ? 2 : 3);
  if (!Number.isInteger(rounds) || rounds < 1 || durationMs / rounds < 100) {
    throw new InvalidOptionError("rounds must be a whole number ≥ 1 with ≥ 100 ms per round");
  }
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
    order: options.order ?? "paired",
    keySpace,
    valueBytes,
    warmupMs,
    durationMs,
    rounds,
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

  const settings: MatrixSettings = {
    keySpace,
    valueBytes,
    warmupMs,
    roundMs: Math.round(durationMs / rounds),
    durationMs,
    workers,
    useH2load,
    dataRoot: options.dataRoot,
    log,
  };
  const sessions: ServerSession[] = [];
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
    if (run.skipped) log(`${driver.name}: skipped (${run.skipped})`);
    else sessions.push(new ServerSession(driver, run, settings));
  }

  if (report.order === "sequential") {
    for (const session of sessions) {
      await session.prepare();
      for (const scenario of scenarios) {
        for (let round = 0; round < rounds; round++) await session.runRound(scenario);
        session.complete(scenario);
      }
      await session.finish();
    }
  } else {
    // Every cluster stays up; each round of a scenario runs on each server back to back,
    // the order flipping every round (A B, B A, A B…) so that a drift in the machine's
    // other load hits both servers alike.
    for (const session of sessions) await session.prepare();
    let flip = 0;
    for (const scenario of scenarios) {
      for (let round = 0; round < rounds; round++, flip++) {
        const order = flip % 2 === 0 ? sessions : [...sessions].reverse();
        for (const session of order) await session.runRound(scenario);
      }
      for (const session of sessions) session.complete(scenario);
    }
    for (const session of sessions) await session.finish();
  }
  report.finishedAt = new Date();
  return report;
}

interface MatrixSettings {
  keySpace: number;
  valueBytes: number;
  warmupMs: number;
  /** Measured time of one round. */
  roundMs: number;
  durationMs: number;
  workers: number;
  useH2load: boolean;
  dataRoot: string | undefined;
  log: (line: string) => void;
}

/**
 * One server's cluster through the comparison: prepare() starts it and fills the key
 * space, runScenario() runs one load, finish() runs the h2load cross-check and stops it.
 * A failure records the error in the run, stops the cluster, and turns every later step
 * into a no-op, so one broken server never stops the other's measurements.
 */
class ServerSession {
  private cluster: LocalCluster | null = null;
  private probe: GrpcUnaryConnection | null = null;
  private leader: ClusterMember | null = null;
  /** Rounds of the scenario in progress, by label. */
  private readonly rounds = new Map<
    string,
    { loads: LoadResult[]; before: bigint; after: bigint }
  >();

  constructor(
    private readonly driver: ClusterDriver,
    private readonly run: ServerRun,
    private readonly settings: MatrixSettings,
  ) {}

  async prepare(): Promise<void> {
    const { run, settings } = this;
    await this.step(async () => {
      settings.log(`${run.server}: starting a 3-member cluster`);
      this.cluster = await LocalCluster.start({ driver: this.driver, dataRoot: settings.dataRoot });
      const { member } = await this.cluster.findLeader();
      this.leader = member;
      run.members = this.cluster.members.map((m) => ({ name: m.name, pid: m.pid }));
      run.leader = member.name;
      this.probe = await GrpcUnaryConnection.connect(parseEndpoint(member.clientEndpoint));
      settings.log(
        `${run.server}: leader ${member.name}; fill: every one of ${settings.keySpace} keys once`,
      );
      const before = await readRevision(this.probe);
      const load = await runLoad({
        endpoints: [member.clientEndpoint],
        workload: {
          operation: "put",
          keySpace: settings.keySpace,
          valueBytes: settings.valueBytes,
        },
        concurrency: 128,
        workers: settings.workers,
        keyOrder: "sequential",
        cpuPids: this.cluster.pids,
      });
      const verification = verifyPutCount(
        before,
        await readRevision(this.probe),
        load.ok,
        load.failed,
      );
      run.fill = { load, verification };
      settings.log(
        `  ${run.server} fill: ${Math.round(load.opsPerSecond)} puts/s; ${verification.summary}`,
      );
    });
  }

  /** Runs one round of a scenario; complete() turns the rounds into the scenario's result. */
  async runRound(scenario: Scenario): Promise<void> {
    const { settings } = this;
    await this.step(async () => {
      const { cluster, probe, leader } = this.live();
      const put = scenario.operation === "put";
      const before = put ? await readRevision(probe) : 0n;
      const load = await runLoad({
        endpoints: [leader.clientEndpoint],
        workload: {
          operation: scenario.operation,
          keySpace: settings.keySpace,
          valueBytes: settings.valueBytes,
        },
        concurrency: scenario.concurrency,
        workers: settings.workers,
        warmupMs: settings.warmupMs,
        durationMs: settings.roundMs,
        cpuPids: cluster.pids,
      });
      const after = put ? await readRevision(probe) : 0n;
      const rounds = this.rounds.get(scenario.label);
      if (rounds) {
        rounds.loads.push(load);
        rounds.after = after;
      } else {
        this.rounds.set(scenario.label, { loads: [load], before, after });
      }
    });
  }

  /** Merges a scenario's rounds into its result and verifies their puts as one run. */
  complete(scenario: Scenario): void {
    const rounds = this.rounds.get(scenario.label);
    this.rounds.delete(scenario.label);
    if (!rounds || this.run.error || !this.leader) return;
    const load = mergeLoadResults(rounds.loads);
    // Nothing else writes to this cluster between its rounds, so the revision delta over
    // all of them must equal all of their successful puts.
    const verification =
      scenario.operation === "put"
        ? verifyPutCount(rounds.before, rounds.after, load.ok, load.failed)
        : null;
    const values = [...load.processCpuMs.values()];
    this.run.scenarios.push({
      scenario,
      load,
      verification,
      serverCpuMs: values.some((v) => v === null)
        ? null
        : values.reduce<number>((sum, v) => sum + (v ?? 0), 0),
      leaderCpuMs: load.processCpuMs.get(this.leader.pid) ?? null,
      roundOpsPerSecond: rounds.loads.map((l) => l.opsPerSecond),
    });
    this.settings.log(
      `  ${this.run.server} ${scenario.label}: ${Math.round(load.opsPerSecond)} ops/s, p99 ${load.latencyMs.p99.toFixed(2)} ms` +
        `${load.failed > 0 ? `, ${load.failed} failed (${load.firstError})` : ""}` +
        `${verification ? `; ${verification.summary}` : ""}`,
    );
  }

  async finish(): Promise<void> {
    const { run, settings } = this;
    if (settings.useH2load) {
      await this.step(async () => {
        const { leader } = this.live();
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
          `  ${run.server} h2load serializable range of one key, c=128: ${Math.round(run.h2load.requestsPerSecond)} req/s`,
        );
      });
    }
    await this.stop();
  }

  /** Runs one step unless an earlier one failed; a failure is recorded and stops the cluster. */
  private async step(body: () => Promise<void>): Promise<void> {
    if (this.run.error) return;
    try {
      await body();
    } catch (error) {
      this.run.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.settings.log(`${this.run.server}: stopped early: ${this.run.error}`);
      await this.stop();
    }
  }

  /** The running cluster, its leader and the probe connection to it. */
  private live(): { cluster: LocalCluster; probe: GrpcUnaryConnection; leader: ClusterMember } {
    if (!this.cluster || !this.probe || !this.leader) {
      throw new ClusterStartError(`${this.run.server}: the cluster is not running`);
    }
    return { cluster: this.cluster, probe: this.probe, leader: this.leader };
  }

  private async stop(): Promise<void> {
    await this.probe?.close();
    this.probe = null;
    await this.cluster?.stop();
    this.cluster = null;
  }
}
