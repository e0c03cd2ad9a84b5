import { Counter, Histogram, type Registry } from "prom-client";

/** What the store reports; all no-ops unless a registry was given. */
export interface WalMetrics {
  /** One merged RocksDB write: how many callers' writes it carried and how long it took. */
  groupWritten(writes: number, seconds: number): void;
  /** One WAL fdatasync (with its rotation check). */
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
    "Time to fdatasync the RocksDB WAL.",
    seconds,
  );
  const write = histogram(
    "wal_write_duration_seconds",
    "Time to apply one merged write batch in RocksDB.",
    seconds,
  );
  const groupSize = histogram(
    "wal_group_commit_writes",
    "Writes merged into one RocksDB write batch.",
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
    groupWritten(writes, secs) {
      groupSize.observe({ member }, writes);
      write.observe({ member }, secs);
    },
    walSynced(secs) {
      fsync.observe({ member }, secs);
    },
    failed() {
      failures.inc({ member });
    },
  };
}
