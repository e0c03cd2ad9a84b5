import { create, toBinary } from "@bufbuild/protobuf";
import { PutResponseSchema } from "@raftkv/proto/etcd";
import { CannedGrpcServer } from "./canned-grpc-server.js";
import { type H2loadResult, h2loadAvailable, runH2load } from "./h2load.js";
import { runLoad } from "./load-generator.js";
import type { LoadResult } from "./load-result.js";
import { RequestTemplate, resolveWorkload } from "./workload.js";

/** Options of a ceiling measurement. */
export interface CeilingOptions {
  /** Calls in flight. Default 512, the comparison's highest. */
  concurrency?: number;
  /** Default: the load generator's. */
  workers?: number;
  connections?: number;
  /** Default 1000. */
  warmupMs?: number;
  /** Default 5000. */
  durationMs?: number;
  /** Also load the canned server with h2load. Default: when h2load is installed. */
  h2load?: boolean;
}

/** How fast the generator can go when the server costs almost nothing. */
export interface CeilingResult {
  load: LoadResult;
  /** Generator CPU per successful call, in µs (all workers). */
  generatorCpuUsPerCall: number;
  /** The canned server's CPU per call, in µs. */
  serverCpuUsPerCall: number;
  /** Calls/s one core could drive at that cost: 1e6 / generatorCpuUsPerCall. */
  callsPerCoreSecond: number;
  /** h2load against the same server, for comparison, or null. */
  h2load: H2loadResult | null;
}

/**
 * Measures the load generator's own ceiling: a put run (256-byte values, the heaviest
 * request of the comparison) against a CannedGrpcServer in this process, which answers
 * each call with a fixed etcd-shaped PutResponse in a few µs. The throughput reached is a
 * lower bound of what the generator can drive on this machine (the server and the
 * generator share its cores); its CPU per call is the number that decides how much of a
 * real benchmark's CPU the generator takes.
 */
export async function measureGeneratorCeiling(
  options: CeilingOptions = {},
): Promise<CeilingResult> {
  const response = toBinary(
    PutResponseSchema,
    create(PutResponseSchema, {
      header: { clusterId: 1n, memberId: 1n, revision: 123_456n, raftTerm: 2n },
    }),
  );
  const server = await CannedGrpcServer.listen({ response });
  const endpoint = { host: "127.0.0.1", port: server.port };
  try {
    const requestsBefore = server.requests;
    const cpuBefore = process.cpuUsage();
    const load = await runLoad({
      endpoints: [`127.0.0.1:${server.port}`],
      workload: { operation: "put" },
      concurrency: options.concurrency ?? 512,
      workers: options.workers,
      connections: options.connections,
      warmupMs: options.warmupMs ?? 1000,
      durationMs: options.durationMs ?? 5000,
    });
    const serverCpu = process.cpuUsage(cpuBefore);
    const served = server.requests - requestsBefore;
    const generatorCpuUsPerCall =
      load.measured > 0 ? (load.generatorCpuMs * 1000) / load.measured : 0;
    let h2load: H2loadResult | null = null;
    if (options.h2load ?? h2loadAvailable()) {
      const template = new RequestTemplate(resolveWorkload({ operation: "put" }));
      h2load = await runH2load({
        endpoint,
        path: template.path,
        body: template.frame,
        connections: 16,
        streamsPerConnection: 32,
        durationSeconds: Math.max(1, Math.round((options.durationMs ?? 5000) / 1000)),
      });
    }
    return {
      load,
      generatorCpuUsPerCall,
      serverCpuUsPerCall: served > 0 ? (serverCpu.user + serverCpu.system) / served : 0,
      callsPerCoreSecond: generatorCpuUsPerCall > 0 ? 1e6 / generatorCpuUsPerCall : 0,
      h2load,
    };
  } finally {
    await server.close();
  }
}
