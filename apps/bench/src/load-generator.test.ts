import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { RangeRequestSchema, RangeResponseSchema } from "@raftkv/proto/etcd";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdDriver } from "./cluster-driver.js";
import { verifyPutCount } from "./count-verification.js";
import { parseEndpoint } from "./endpoint.js";
import { WorkerError } from "./errors.js";
import { readRevision } from "./etcd-api.js";
import { findFreePorts } from "./free-port.js";
import { GrpcUnaryConnection } from "./grpc-unary-connection.js";
import { runLoad } from "./load-generator.js";
import { LocalCluster } from "./local-cluster.js";

// A real etcd 3.4 (node scripts/ensure-system-deps.mjs installs it); the worker processes
// run the compiled dist/load-worker.js, so build raftkv-bench before running this.
let cluster: LocalCluster;
let endpoint: string;
let probe: GrpcUnaryConnection;

// Generous timeouts whichever vitest config runs this: a slow, busy machine forks and
// starts etcd slowly.
const TIMEOUT = { timeout: 120_000 };

beforeAll(async () => {
  cluster = await LocalCluster.start({ driver: createEtcdDriver(), members: 1 });
  endpoint = cluster.members[0]?.clientEndpoint as string;
  probe = await GrpcUnaryConnection.connect(parseEndpoint(endpoint));
}, 120_000);
afterAll(async () => {
  await probe?.close();
  await cluster?.stop();
}, 120_000);

/** Keys k0000000 … k0000299 that exist in etcd, counted by etcd itself. */
async function countKeys(): Promise<bigint> {
  const request = create(RangeRequestSchema, {
    key: Buffer.from("k0000000"),
    rangeEnd: Buffer.from("k0000300"),
    countOnly: true,
  });
  const bytes = await probe.unary("/etcdserverpb.KV/Range", toBinary(RangeRequestSchema, request));
  return fromBinary(RangeResponseSchema, bytes).count;
}

describe("runLoad against etcd", () => {
  it("a sequential fill writes every key of the key space exactly once", TIMEOUT, async () => {
    const before = await readRevision(probe);
    const result = await runLoad({
      endpoints: [endpoint],
      workload: { operation: "put", keySpace: 300 },
      concurrency: 16,
      workers: 2,
      keyOrder: "sequential",
    });
    expect(result).toMatchObject({ ok: 300, failed: 0, measured: 300, aborted: null });
    expect(verifyPutCount(before, await readRevision(probe), result.ok, result.failed).exact).toBe(
      true,
    );
    expect(await countKeys()).toBe(300n);
  });

  it("a put run's revision delta equals the puts it counted as successful", TIMEOUT, async () => {
    const before = await readRevision(probe);
    const result = await runLoad({
      endpoints: [endpoint],
      workload: { operation: "put", keySpace: 300 },
      concurrency: 8,
      workers: 2,
      maxRequests: 400,
      warmupMs: 0,
      durationMs: 0,
    });
    expect(result.ok + result.failed).toBe(400);
    const verification = verifyPutCount(
      before,
      await readRevision(probe),
      result.ok,
      result.failed,
    );
    expect(verification.summary).toMatch(/^verified/);
    expect(verification.delta).toBe(400);
    // Random keys from the filled key space overwrite; they never add keys.
    expect(await countKeys()).toBe(300n);
  });

  it(
    "merges the workers' histograms: one latency per measured call, percentiles in order",
    TIMEOUT,
    async () => {
      const result = await runLoad({
        endpoints: [endpoint],
        workload: { operation: "range-serializable", keySpace: 300 },
        concurrency: 6,
        workers: 3,
        maxRequests: 300,
        warmupMs: 0,
        durationMs: 0,
      });
      expect(result.ok).toBe(300);
      expect(result.histogram.count).toBe(result.measured);
      expect(result.measured).toBe(300);
      const l = result.latencyMs;
      expect(
        0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
      ).toBe(true);
      expect(result.histogram.minUs).toBeGreaterThan(0);
    },
  );

  it(
    "measures a timed window after the warm-up, with the server's and its own CPU",
    TIMEOUT,
    async () => {
      const pid = cluster.pids[0] as number;
      const result = await runLoad({
        endpoints: [endpoint],
        workload: { operation: "range-linearizable", keySpace: 300 },
        concurrency: 4,
        warmupMs: 300,
        durationMs: 1000,
        cpuPids: [pid],
      });
      expect(result.windowMs).toBe(1000);
      expect(result.failed).toBe(0);
      // Calls of the warm-up and the drain count as ok but are not measured.
      expect(result.measured).toBeGreaterThan(0);
      expect(result.ok).toBeGreaterThan(result.measured);
      expect(result.opsPerSecond).toBeCloseTo(result.measured, 6);
      expect(result.generatorCpuMs).toBeGreaterThan(0);
      expect(result.processCpuMs.get(pid)).toBeGreaterThanOrEqual(0);
      expect(result.machineCpu?.totalMs).toBeGreaterThan(0);
    },
  );

  it("fails with WorkerError when the workers cannot connect", TIMEOUT, async () => {
    const [port] = await findFreePorts(1);
    await expect(
      runLoad({
        endpoints: [`127.0.0.1:${port}`],
        workload: { operation: "put" },
        concurrency: 2,
        maxRequests: 10,
        durationMs: 0,
      }),
    ).rejects.toBeInstanceOf(WorkerError);
  });
});
