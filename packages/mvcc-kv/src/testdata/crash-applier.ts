/**
 * Child process for the crash test: applies `replayLog(count)` to a store on RocksDB in
 * `dir`, flushes after entry `flushAt`, applies the rest (left unwritten: the batch
 * interval is longer than the test), prints each result and then "ready", and waits to
 * be killed with SIGKILL. Run with `node --import tsx crash-applier.ts dir count flushAt`.
 * Test-only: not part of the build.
 */
import { openRocksStorage } from "@raftkv/wal-rocksdb";
import { openMvccStore } from "../mvcc-store.js";
import { describeResult, replayLog } from "./replay-log.js";

const [dir, countText, flushAtText] = process.argv.slice(2);
const count = Number(countText);
const flushAt = Number(flushAtText);
const storage = await openRocksStorage({ dir: dir!, clusterId: "mvcc-crash", memberId: 1 });
const store = await openMvccStore({
  backend: storage.backend,
  batchIntervalMs: 2_000_000_000,
  batchLimitOps: 1_000_000,
});
const log = replayLog(count);
const out: string[] = [];
// Several entries per apply call, as Raft hands them over.
for (let from = 0; from < count; from += 7) {
  const entries = log.slice(from, Math.min(from + 7, count));
  const cut = entries.findIndex((e) => e.index > flushAt);
  const parts = cut <= 0 ? [entries] : [entries.slice(0, cut), entries.slice(cut)];
  for (const part of parts) {
    if (part[0]!.index === flushAt + 1) await store.flush();
    const results = await store.apply(part);
    results.forEach((r, i) => {
      out.push(`result ${part[i]!.index} ${describeResult(r)}`);
    });
  }
}
if (flushAt >= count) await store.flush();
process.stdout.write(
  `${out.join("\n")}\napplied ${store.appliedIndex()} ${store.lastAppliedIndex()}\nready\n`,
);
// Keep the process (and the unwritten batch) alive until the parent kills it.
setInterval(() => {}, 1_000_000);
