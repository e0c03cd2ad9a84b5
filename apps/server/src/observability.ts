import { type Logger, pino } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** One JSON log line per event on stdout, as etcd's zap logger writes them. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, base: { member: name }, timestamp: pino.stdTimeFunctions.isoTime });
}

const grpcCodeNames = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

/** Exponential buckets in seconds from 100 µs to about 13 s, for request and disk latencies. */
const latencyBuckets = Array.from({ length: 18 }, (_, i) => 0.0001 * 2 ** i);

/** The server's Prometheus metrics, named after etcd's where the meaning is the same. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly proposalDuration = new Histogram({
    name: "raftkv_server_proposal_duration_seconds",
    help: "Time from proposing a write to its result, by outcome.",
    labelNames: ["outcome"],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly proposalsFailed = new Counter({
    name: "etcd_server_proposals_failed_total",
    help: "Proposals that failed or whose fate is unknown.",
    registers: [this.registry],
  });
  readonly proposalsPending = new Gauge({
    name: "etcd_server_proposals_pending",
    help: "Proposals waiting for their result.",
    registers: [this.registry],
  });
  readonly leaderChanges = new Counter({
    name: "etcd_server_leader_changes_seen_total",
    help: "Leader changes seen by this member.",
    registers: [this.registry],
  });
  readonly hasLeader = new Gauge({
    name: "etcd_server_has_leader",
    help: "1 if this member knows a leader, 0 otherwise.",
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: "etcd_server_is_leader",
    help: "1 if this member is the leader.",
    registers: [this.registry],
  });
  readonly commitIndex = new Gauge({
    name: "etcd_server_committed_index",
    help: "The Raft commit index this member knows.",
    registers: [this.registry],
  });
  readonly appliedIndex = new Gauge({
    name: "etcd_server_applied_index",
    help: "The index of the last entry applied to the key-value store.",
    registers: [this.registry],
  });
  readonly applyDuration = new Histogram({
    name: "raftkv_server_apply_duration_seconds",
    help: "Time to apply one batch of committed entries to the key-value store.",
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly saveDuration = new Histogram({
    name: "raftkv_disk_raft_save_duration_seconds",
    help: "Time to save one Raft ready (entries and hard state); sync=true ones include the fsync.",
    labelNames: ["sync"],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  /**
   * Calls finished on the lean gRPC path since the last scrape, by path then status code;
   * plain numbers on the hot path, added to `grpc_server_handled_total` when it is read.
   */
  private readonly callsByPath = new Map<string, number[]>();

  readonly grpcHandled: Counter<"grpc_method" | "grpc_code"> = new Counter({
    name: "grpc_server_handled_total",
    help: "gRPC calls completed, by method and status code.",
    labelNames: ["grpc_method", "grpc_code"],
    registers: [this.registry],
    collect: () => this.flushCalls(),
  });

  private readonly proposalByOutcome = {
    ok: this.proposalDuration.labels("ok"),
    rejected: this.proposalDuration.labels("rejected"),
    failed: this.proposalDuration.labels("failed"),
  };

  /** Records one write's latency; the labelled children are bound once, as this runs per request. */
  observeProposal(outcome: "ok" | "rejected" | "failed", seconds: number): void {
    this.proposalByOutcome[outcome].observe(seconds);
  }

  /** Counts one finished gRPC call (per request: an array slot, no labels hashed). */
  countCall(path: string, status: number): void {
    let counts = this.callsByPath.get(path);
    if (counts === undefined) {
      counts = [];
      this.callsByPath.set(path, counts);
    }
    counts[status] = (counts[status] ?? 0) + 1;
  }

  private flushCalls(): void {
    for (const [path, counts] of this.callsByPath) {
      const method = path.slice(path.lastIndexOf("/") + 1);
      for (let status = 0; status < counts.length; status++) {
        const n = counts[status];
        if (n === undefined || n === 0) continue;
        this.grpcHandled.inc(
          { grpc_method: method, grpc_code: grpcCodeNames[status] ?? String(status) },
          n,
        );
        counts[status] = 0;
      }
    }
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
