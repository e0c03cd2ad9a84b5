import { performance } from "node:perf_hooks";
import type { Endpoint } from "./endpoint.js";
import { type BenchError, InvalidOptionError } from "./errors.js";
import { GrpcUnaryConnection, type PreparedMethod } from "./grpc-unary-connection.js";
import { LatencyHistogram, type LatencyHistogramSnapshot } from "./latency-histogram.js";
import { KeySequence, RequestTemplate, type ResolvedWorkload } from "./workload.js";

/** What one load process runs. Built by the load generator; see LoadOptions for meanings. */
export interface RunnerConfig {
  endpoints: Endpoint[];
  /** Index of this runner among its siblings; spreads connections across endpoints. */
  index: number;
  connections: number;
  concurrency: number;
  workload: ResolvedWorkload;
  keyOrder: "random" | "sequential";
  /** Seed of the random key order, or the first key of the sequential one. */
  seed: number;
  /** Step of the sequential key order. */
  stride: number;
  warmupMs: number;
  /** Measurement window after the warm-up; 0: until maxRequests or the keys run out. */
  durationMs: number;
  /** Requests this runner starts at most; 0: no limit. */
  maxRequests: number;
  callTimeoutMs: number;
  /** Failed calls after which the run stops early. */
  maxErrors: number;
}

/** What one runner measured. Counts cover the whole run unless they say "window". */
export interface RunnerResult {
  /** Successful calls, warm-up and drain included: what a revision delta must match. */
  ok: number;
  /** Failed calls; for writes each one's outcome is unknown. */
  failed: number;
  /** Failed calls by error code ("GRPC_14", "CALL_TIMEOUT", …). */
  errors: Record<string, number>;
  firstError: string | null;
  /** Successful calls that completed inside the measurement window. */
  measured: number;
  /** Latencies of the `measured` calls, in µs. */
  histogram: LatencyHistogramSnapshot;
  /** The window's actual length. */
  windowMs: number;
  /** CPU (user + system) this process used during the window. */
  cpuMs: number;
  /** Why the run stopped before its end, or null. */
  aborted: string | null;
}

/** Checks a RunnerConfig; throws InvalidOptionError naming the first bad field. */
export function validateRunnerConfig(config: RunnerConfig): void {
  const wholeAtLeast = (name: keyof RunnerConfig, min: number): void => {
    const value = config[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw new InvalidOptionError(`${name} must be a whole number ≥ ${min}, got ${String(value)}`);
    }
  };
  wholeAtLeast("connections", 1);
  wholeAtLeast("concurrency", 1);
  wholeAtLeast("stride", 1);
  wholeAtLeast("warmupMs", 0);
  wholeAtLeast("durationMs", 0);
  wholeAtLeast("maxRequests", 0);
  wholeAtLeast("callTimeoutMs", 0);
  wholeAtLeast("maxErrors", 0);
  if (config.endpoints.length === 0)
    throw new InvalidOptionError("at least one endpoint is needed");
  if (config.durationMs === 0 && config.maxRequests === 0 && config.keyOrder !== "sequential") {
    throw new InvalidOptionError(
      "a run needs an end: durationMs, maxRequests, or the sequential key order",
    );
  }
}

/**
 * Keeps `concurrency` calls in flight over `connections` HTTP/2 connections, each slot
 * starting its next call as soon as its previous one completes (a closed loop, like etcd's
 * benchmark tool). Latency is measured from call() to the callback, so it includes time a
 * request waited in this process; `cpuMs` lets readers check that this stayed small.
 */
export class LoadRunner {
  /** Opens the connections; rejects with ConnectionClosedError if an endpoint is down. */
  static async connect(config: RunnerConfig): Promise<LoadRunner> {
    validateRunnerConfig(config);
    const opened = await Promise.allSettled(
      Array.from({ length: config.connections }, (_, i) => {
        const endpoint = config.endpoints[
          (config.index * config.connections + i) % config.endpoints.length
        ] as Endpoint;
        return GrpcUnaryConnection.connect({
          host: endpoint.host,
          port: endpoint.port,
          callTimeoutMs: config.callTimeoutMs,
        });
      }),
    );
    const connections = opened.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failure = opened.find((r) => r.status === "rejected");
    if (failure) {
      await Promise.all(connections.map((c) => c.close()));
      throw failure.reason;
    }
    return new LoadRunner(config, connections);
  }

  private constructor(
    private readonly config: RunnerConfig,
    private readonly connections: GrpcUnaryConnection[],
  ) {}

  /** Runs the load once and closes the connections. */
  async run(): Promise<RunnerResult> {
    try {
      return await this.drive();
    } finally {
      await Promise.all(this.connections.map((c) => c.close()));
    }
  }

  private drive(): Promise<RunnerResult> {
    const { config, connections } = this;
    const template = new RequestTemplate(config.workload);
    const methods: PreparedMethod[] = connections.map((c) => c.prepare(template.path));
    const keys = new KeySequence(
      config.keyOrder,
      config.workload.keySpace,
      config.seed,
      config.stride,
    );
    const histogram = new LatencyHistogram();
    const errors: Record<string, number> = {};
    let ok = 0;
    let failed = 0;
    let measured = 0;
    let issued = 0;
    let firstError: string | null = null;
    let aborted: string | null = null;
    let stopping = false;

    const startedAt = performance.now();
    const windowStart = startedAt + config.warmupMs;
    const windowEnd =
      config.durationMs > 0 ? windowStart + config.durationMs : Number.POSITIVE_INFINITY;
    let cpuAtWindowStart = process.cpuUsage();
    let cpuAtWindowEnd: NodeJS.CpuUsage | null = null;
    let lastCompletion = startedAt;

    return new Promise<RunnerResult>((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      if (config.warmupMs > 0) {
        timers.push(setTimeout(() => (cpuAtWindowStart = process.cpuUsage()), config.warmupMs));
      }
      if (config.durationMs > 0) {
        timers.push(
          setTimeout(() => {
            cpuAtWindowEnd = process.cpuUsage(cpuAtWindowStart);
            stopping = true;
          }, config.warmupMs + config.durationMs),
        );
      }
      let activeSlots = config.concurrency;

      const finishSlot = (): void => {
        activeSlots -= 1;
        if (activeSlots > 0) return;
        for (const timer of timers) clearTimeout(timer);
        const cpu = cpuAtWindowEnd ?? process.cpuUsage(cpuAtWindowStart);
        // A window cut short by an abort, or one that ends with the keys, is as long as
        // it really was.
        const windowMs =
          config.durationMs > 0 && aborted === null
            ? config.durationMs
            : Math.max(0, Math.min(lastCompletion, windowEnd) - windowStart);
        resolve({
          ok,
          failed,
          errors,
          firstError,
          measured,
          histogram: histogram.toJSON(),
          windowMs,
          cpuMs: (cpu.user + cpu.system) / 1000,
          aborted,
        });
      };

      const onError = (error: BenchError): void => {
        failed += 1;
        const code =
          error.code === "GRPC_STATUS"
            ? `GRPC_${(error as { status?: number }).status}`
            : error.code;
        errors[code] = (errors[code] ?? 0) + 1;
        firstError ??= `${code}: ${error.message}`;
        if (error.code === "CONNECTION_CLOSED" || error.code === "HTTP2_PROTOCOL") {
          // A dead connection fails every later call at once; spinning on it measures nothing.
          aborted ??= `${error.code}: ${error.message}`;
          stopping = true;
        } else if (failed > config.maxErrors) {
          aborted ??= `more than ${config.maxErrors} failed calls; first: ${firstError}`;
          stopping = true;
        }
      };

      const issue = (slot: number): void => {
        if (stopping || (config.maxRequests > 0 && issued >= config.maxRequests)) {
          finishSlot();
          return;
        }
        const key = keys.next();
        if (key < 0) {
          finishSlot();
          return;
        }
        issued += 1;
        template.setKey(key);
        const connection = slot % connections.length;
        const started = performance.now();
        (connections[connection] as GrpcUnaryConnection).call(
          methods[connection] as PreparedMethod,
          template.frame,
          (error) => {
            const completed = performance.now();
            lastCompletion = completed;
            if (error) {
              onError(error);
            } else {
              ok += 1;
              if (completed >= windowStart && completed < windowEnd) {
                measured += 1;
                histogram.record((completed - started) * 1000);
              }
            }
            issue(slot);
          },
        );
      };
      for (let slot = 0; slot < config.concurrency; slot++) issue(slot);
    });
  }
}
