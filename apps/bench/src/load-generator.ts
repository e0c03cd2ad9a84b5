import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Endpoint, parseEndpoint } from "./endpoint.js";
import { InvalidOptionError, WorkerError } from "./errors.js";
import { LatencyHistogram } from "./latency-histogram.js";
import { type LoadResult, summarizeLatency } from "./load-result.js";
import { type RunnerConfig, type RunnerResult, validateRunnerConfig } from "./load-runner.js";
import {
  type CpuSample,
  cpuDelta,
  type MachineCpu,
  readMachineCpu,
  sampleCpu,
} from "./proc-stat.js";
import type { ParentMessage, WorkerMessage } from "./worker-messages.js";
import { type ResolvedWorkload, resolveWorkload, type WorkloadSpec } from "./workload.js";

/** One load run. */
export interface LoadOptions {
  /** Servers to load, "host:port" or "http://host:port"; connections are spread over them. */
  endpoints: readonly string[];
  workload: WorkloadSpec;
  /** Calls kept in flight across all workers. */
  concurrency: number;
  /** HTTP/2 connections across all workers. Default min(concurrency, 16). */
  connections?: number;
  /**
   * Load processes. Default min(2, concurrency): each runs its own event loop, so the
   * generator can use more than one core.
   */
  workers?: number;
  /** "random" (default): uniform keys. "sequential": every key once, then the run ends. */
  keyOrder?: "random" | "sequential";
  /** Seed of the random key order; the same seed replays the same keys. Default 1. */
  seed?: number;
  /** Load before the measurement window, not measured. Default 2000 (0 when sequential). */
  warmupMs?: number;
  /** The measurement window. Default 10000 (0 when sequential: until the keys run out). */
  durationMs?: number;
  /** Stop after this many calls in total; 0 (default): no limit. */
  maxRequests?: number;
  /** Per-call timeout. Default 10000. */
  callTimeoutMs?: number;
  /** Failed calls after which a worker stops early. Default 1000. */
  maxErrors?: number;
  /** Processes (servers) whose CPU time over the window is reported. */
  cpuPids?: readonly number[];
  /** How long workers may take to connect. Default 30000. */
  readyTimeoutMs?: number;
}

/** Splits `total` into `parts` whole shares that differ by at most one. */
export function split(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}

/** Where the compiled worker entry is: beside this module, or in dist/ when run from src/. */
function workerPath(): string {
  const candidates = [
    fileURLToPath(new URL("./load-worker.js", import.meta.url)),
    fileURLToPath(new URL("../dist/load-worker.js", import.meta.url)),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new WorkerError(
      `load-worker.js not found (looked in ${candidates.join(", ")}); build raftkv-bench first`,
    );
  }
  return found;
}

/**
 * Runs one load: forks the workers, waits until all of them are connected, starts them
 * together, samples the CPU time of `cpuPids` at the window's start and end, and merges
 * the workers' counts and histograms. Rejects with InvalidOptionError for bad options and
 * WorkerError when a worker cannot connect or dies; failed calls do not reject, they are
 * counted in the result.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const workload = resolveWorkload(options.workload);
  const endpoints: Endpoint[] = options.endpoints.map(parseEndpoint);
  const keyOrder = options.keyOrder ?? "random";
  const concurrency = options.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError(`concurrency must be a whole number ≥ 1, got ${concurrency}`);
  }
  const maxRequests = options.maxRequests ?? 0;
  // More workers than calls in flight (or than calls in total) would sit idle.
  const workers = Math.min(
    options.workers ?? Math.min(2, concurrency),
    concurrency,
    maxRequests > 0 ? maxRequests : concurrency,
  );
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new InvalidOptionError(`workers must be 1–64, got ${options.workers}`);
  }
  const connections = Math.max(
    workers,
    Math.min(options.connections ?? Math.min(concurrency, 16), concurrency),
  );
  const sequential = keyOrder === "sequential";
  const warmupMs = options.warmupMs ?? (sequential ? 0 : 2000);
  const durationMs = options.durationMs ?? (sequential ? 0 : 10_000);
  const seed = options.seed ?? 1;
  const concurrencyShares = split(concurrency, workers);
  const connectionShares = split(connections, workers);
  const requestShares = maxRequests > 0 ? split(maxRequests, workers) : [];
  const configs: RunnerConfig[] = concurrencyShares.map((share, index) => ({
    endpoints,
    index,
    connections: Math.min(connectionShares[index] as number, share),
    concurrency: share,
    workload,
    keyOrder,
    // Sequential: worker i writes keys i, i+workers, …; random: one stream per worker.
    seed: sequential ? index : (seed * 7919 + index * 104_729) >>> 0,
    stride: sequential ? workers : 1,
    warmupMs,
    durationMs,
    maxRequests: maxRequests > 0 ? (requestShares[index] as number) : 0,
    callTimeoutMs: options.callTimeoutMs ?? 10_000,
    maxErrors: options.maxErrors ?? 1000,
  }));

  for (const config of configs) validateRunnerConfig(config);
  const path = workerPath();
  const children = configs.map(() =>
    // No inherited execArgv: flags of the parent (--input-type, --eval, a test runner's
    // loaders) can stop a plain module entry from starting.
    fork(path, [], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "json",
      execArgv: [],
    }),
  );
  try {
    const results = await driveWorkers(children, configs, {
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      cpuPids: options.cpuPids ?? [],
      warmupMs,
      windowMs: durationMs,
    });
    return merge(workload, concurrency, connections, workers, results);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  }
}

interface DriveOptions {
  readyTimeoutMs: number;
  cpuPids: readonly number[];
  warmupMs: number;
  windowMs: number;
}

async function driveWorkers(
  children: ChildProcess[],
  configs: RunnerConfig[],
  options: DriveOptions,
): Promise<{
  results: RunnerResult[];
  cpu: Map<number, number | null>;
  machine: MachineCpu | null;
}> {
  const stderrTails = children.map(() => "");
  const inbox = children.map((child, i) => {
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      stderrTails[i] = (stderrTails[i] + text).slice(-2000);
    });
    return new MessageQueue(child, () => stderrTails[i] ?? "");
  });
  children.forEach((child, i) => {
    child.send({ type: "init", config: configs[i] as RunnerConfig } satisfies ParentMessage);
  });
  const readyDeadline = setTimeout(() => {
    for (const q of inbox) q.fail(new WorkerError("load workers did not connect in time"));
  }, options.readyTimeoutMs);
  try {
    await Promise.all(inbox.map((q) => q.expect("ready")));
  } finally {
    clearTimeout(readyDeadline);
  }

  const sample = (): { processes: CpuSample; machine: MachineCpu | null } => ({
    processes: sampleCpu(options.cpuPids),
    machine: readMachineCpu(),
  });
  let before = sample();
  let after: ReturnType<typeof sample> | null = null;
  const timers: NodeJS.Timeout[] = [];
  if (options.warmupMs > 0) {
    timers.push(setTimeout(() => (before = sample()), options.warmupMs));
  }
  if (options.windowMs > 0) {
    timers.push(setTimeout(() => (after = sample()), options.warmupMs + options.windowMs));
  }
  for (const child of children) child.send({ type: "start" } satisfies ParentMessage);
  try {
    const messages = await Promise.all(inbox.map((q) => q.expect("result")));
    const results = messages.map((m) => (m as { result: RunnerResult }).result);
    const end = after ?? sample();
    const machine =
      before.machine && end.machine
        ? {
            busyMs: end.machine.busyMs - before.machine.busyMs,
            totalMs: end.machine.totalMs - before.machine.totalMs,
          }
        : null;
    return { results, cpu: cpuDelta(before.processes, end.processes), machine };
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

/** Delivers one worker's messages in order, failing on a "failed" message or an early exit. */
class MessageQueue {
  private readonly received: WorkerMessage[] = [];
  private waiter: {
    type: string;
    resolve: (m: WorkerMessage) => void;
    reject: (e: Error) => void;
  } | null = null;
  private error: Error | null = null;

  constructor(
    private readonly child: ChildProcess,
    stderrTail: () => string,
  ) {
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "failed") {
        this.fail(new WorkerError(`load worker failed: ${message.code}: ${message.message}`));
        return;
      }
      this.received.push(message);
      this.deliver();
    });
    child.on("close", (code, signal) => {
      // A worker exits after its last message; only an exit with nothing left to say fails.
      setImmediate(() => {
        if (this.waiter) {
          const tail = stderrTail().trim();
          this.fail(
            new WorkerError(
              `load worker ${child.pid} exited (${signal ?? code}) early${tail ? `: ${tail}` : ""}`,
            ),
          );
        }
      });
    });
    child.on("error", (error) =>
      this.fail(new WorkerError(`load worker error: ${error.message}`, { cause: error })),
    );
  }

  expect(type: WorkerMessage["type"]): Promise<WorkerMessage> {
    return new Promise((resolve, reject) => {
      this.waiter = { type, resolve, reject };
      this.deliver();
    });
  }

  fail(error: Error): void {
    this.error ??= error;
    this.deliver();
  }

  private deliver(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const next = this.received.shift();
    if (next) {
      this.waiter = null;
      if (next.type === waiter.type) waiter.resolve(next);
      else
        waiter.reject(
          new WorkerError(`load worker sent "${next.type}", expected "${waiter.type}"`),
        );
      return;
    }
    if (this.error) {
      this.waiter = null;
      waiter.reject(this.error);
      if (this.child.exitCode === null) this.child.kill("SIGKILL");
    }
  }
}

function merge(
  workload: ResolvedWorkload,
  concurrency: number,
  connections: number,
  workers: number,
  sampled: {
    results: RunnerResult[];
    cpu: Map<number, number | null>;
    machine: MachineCpu | null;
  },
): LoadResult {
  const { results } = sampled;
  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let measured = 0;
  let generatorCpuMs = 0;
  let windowMs = 0;
  for (const r of results) {
    histogram.merge(LatencyHistogram.fromJSON(r.histogram));
    ok += r.ok;
    failed += r.failed;
    measured += r.measured;
    generatorCpuMs += r.cpuMs;
    windowMs = Math.max(windowMs, r.windowMs);
    for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  }
  return {
    workload,
    concurrency,
    connections,
    workers,
    ok,
    failed,
    errors,
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
    measured,
    windowMs,
    opsPerSecond: windowMs > 0 ? (measured * 1000) / windowMs : 0,
    latencyMs: summarizeLatency(histogram),
    histogram,
    generatorCpuMs,
    processCpuMs: sampled.cpu,
    machineCpu: sampled.machine,
    aborted: results.find((r) => r.aborted)?.aborted ?? null,
  };
}
