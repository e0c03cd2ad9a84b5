import { Counter, Histogram, type Registry } from "prom-client";

/** What the store reports; all no-ops unless a registry was given. */
export interface WalMetrics {
  /** One write to the Raft WAL: how many saves it carried. */
  groupWritten(writes: number): void;
  /** One synced write to the Raft WAL (write and sync are one O_DSYNC write). */
  walSynced(seconds: number): void;
  /** A write or sync failed and the store stopped accepting writes. */
  failed(): void;
}

export const noWalMetrics: WalMetrics = {
  groupWritten() {},
  walSynced() {},
  failed() {},
};

/**
 * Registers wal-rocksdb's metrics (prefix `wal_`, label `member`) in `registry`, reusing
 * them when another store in the same process registered them already. The fsync
 * histogram mirrors etcd's `etcd_disk_wal_fsync_duration_seconds`.
 */
export function createWalMetrics(registry: Registry, memberId: number): WalMetrics {
  const member = String(memberId);
  const histogram = (name: string, help: string, buckets: number[]): Histogram<"member"> =>
    (registry.getSingleMetric(name) as Histogram<"member"> | undefined) ??
    new Histogram({ name, help, labelNames: ["member"], buckets, registers: [registry] });
  const seconds = [
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512,
    1,
  ];
  const fsync = histogram(
    "wal_fsync_duration_seconds",
    "Time of one synced write to the Raft WAL (written and synced in one O_DSYNC write).",
    seconds,
  );
  const groupSize = histogram(
    "wal_group_commit_writes",
    "Raft log saves merged into one synced WAL write.",
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
  );
  const failures =
    (registry.getSingleMetric("wal_storage_failures_total") as Counter<"member"> | undefined) ??
    new Counter({
      name: "wal_storage_failures_total",
      help: "Writes or syncs that failed and stopped the store.",
      labelNames: ["member"],
      registers: [registry],
    });
  return {
    groupWritten(writes) {
      groupSize.observe({ member }, writes);
    },
    walSynced(secs) {
      fsync.observe({ member }, secs);
    },
    failed() {
      failures.inc({ member });
    },
  };
}
