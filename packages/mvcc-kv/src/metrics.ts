import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What a store reports when given a prom-client registry. */
export interface MvccMetrics {
  appliedEntries: Counter;
  applySeconds: Histogram;
  ranges: Counter;
}

/** The live values that gauges read when scraped. */
export interface MvccGaugeSources {
  currentRevision(): number;
  compactedRevision(): number;
  keys(): number;
  valueCacheBytes(): number;
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
  return {
    appliedEntries: new Counter({
      name: "raftkv_mvcc_applied_entries_total",
      help: "Raft entries applied to the store.",
      registers,
    }),
    applySeconds: new Histogram({
      name: "raftkv_mvcc_apply_batch_seconds",
      help: "Time to apply one batch of entries, backend write included.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    ranges: new Counter({
      name: "raftkv_mvcc_ranges_total",
      help: "Range reads served outside Raft.",
      registers,
    }),
  };
}
