import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What a store reports when given a prom-client registry. */
export interface MvccMetrics {
  appliedEntries: Counter;
  applySeconds: Histogram;
  ranges: Counter;
  commitSeconds: Histogram;
  backpressureWaits: Counter;
}

/** The live values that gauges read when scraped. */
export interface MvccGaugeSources {
  currentRevision(): number;
  compactedRevision(): number;
  keys(): number;
  valueCacheBytes(): number;
  pendingBytes(): number;
  durableAppliedIndex(): number;
}

/**
 * Registers the store's metrics in `registry`. Names are fixed, so one registry holds
 * the metrics of one store; registering a second store in the same registry throws
 * prom-client's duplicate-name error.
 */
export function createMvccMetrics(registry: Registry, sources: MvccGaugeSources): MvccMetrics {
  const registers = [registry];
  new Gauge({
    name: "raftkv_mvcc_current_revision",
    help: "The store's current revision.",
    registers,
    collect() {
      this.set(sources.currentRevision());
    },
  });
  new Gauge({
    name: "raftkv_mvcc_compacted_revision",
    help: "The revision history is compacted up to (0 before any compaction).",
    registers,
    collect() {
      this.set(sources.compactedRevision());
    },
  });
  new Gauge({
    name: "raftkv_mvcc_keys",
    help: "Keys with history in the in-memory index, deleted-but-not-compacted ones included.",
    registers,
    collect() {
      this.set(sources.keys());
    },
  });
  new Gauge({
    name: "raftkv_mvcc_value_cache_bytes",
    help: "Bytes charged to the latest-value cache.",
    registers,
    collect() {
      this.set(sources.valueCacheBytes());
    },
  });
  new Gauge({
    name: "raftkv_mvcc_backend_pending_bytes",
    help: "Bytes applied in memory and not yet written to the backend.",
    registers,
    collect() {
      this.set(sources.pendingBytes());
    },
  });
  new Gauge({
    name: "raftkv_mvcc_durable_applied_index",
    help: "The index of the last entry whose effects the backend holds (the Raft log may be compacted up to here).",
    registers,
    collect() {
      this.set(sources.durableAppliedIndex());
    },
  });
  return {
    appliedEntries: new Counter({
      name: "raftkv_mvcc_applied_entries_total",
      help: "Raft entries applied to the store.",
      registers,
    }),
    applySeconds: new Histogram({
      name: "raftkv_mvcc_apply_batch_seconds",
      help: "Time to apply one batch of entries (in memory; backend commits are separate).",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    ranges: new Counter({
      name: "raftkv_mvcc_ranges_total",
      help: "Range reads served outside Raft.",
      registers,
    }),
    commitSeconds: new Histogram({
      name: "raftkv_mvcc_backend_commit_seconds",
      help: "Time to write one batch of applied operations to the backend (etcd's backend_commit_duration_seconds).",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
      registers,
    }),
    backpressureWaits: new Counter({
      name: "raftkv_mvcc_backpressure_waits_total",
      help: "Apply calls that waited for a backend commit because maxPendingBytes was reached.",
      registers,
    }),
  };
}
