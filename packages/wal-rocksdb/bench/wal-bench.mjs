// Benchmarks for @raftkv/wal-rocksdb; run with `pnpm --filter @raftkv/wal-rocksdb bench`
// (after a build). Options via env: BENCH_DIR (default: the OS temp dir, i.e. the disk the
// data dir would be on), BENCH_SECONDS per case (default 3), BENCH_LOAD_ENTRIES (default
// 1,000,000). Prints a Markdown table for docs/benchmarks.md.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRocksStorage } from "../dist/index.js";

const base = process.env.BENCH_DIR ?? tmpdir();
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const loadEntries = Number(process.env.BENCH_LOAD_ENTRIES ?? 1_000_000);
const payload = new Uint8Array(256).fill(7);
const rows = [];

function rawFsyncRate(dir, secs = seconds) {
  const file = join(dir, "fsync-probe");
  const fd = openSync(file, "w");
  const buf = Buffer.alloc(256, 1);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < secs * 1000) {
    writeSync(fd, buf);
    fdatasyncSync(fd);
    n++;
  }
  const elapsed = (performance.now() - start) / 1000;
  closeSync(fd);
  rmSync(file);
  return n / elapsed;
}

async function withStorage(fn) {
  const dir = await mkdtemp(join(base, "wal-bench-"));
  const storage = await openRocksStorage({ dir, clusterId: "bench", memberId: 1 });
  try {
    await storage.logStore.load();
    return await fn(storage, dir);
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** `writers` concurrent loops, each saving one synced 256-byte entry at a time. */
async function syncedAppends(writers, secs = seconds) {
  return withStorage(async ({ logStore }) => {
    let done = 0;
    const deadline = performance.now() + secs * 1000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < deadline) {
          const index = logStore.lastIndex() + 1;
          await logStore.save(
            { term: 1, vote: 1, commit: 0 },
            [{ index, term: 1, type: 0, data: payload }],
            { sync: true },
          );
          done++;
        }
      }),
    );
    return done / ((performance.now() - start) / 1000);
  });
}

async function loadTime() {
  const dir = await mkdtemp(join(base, "wal-bench-load-"));
  try {
    let storage = await openRocksStorage({ dir, clusterId: "bench", memberId: 1 });
    await storage.logStore.load();
    const batch = 10_000;
    for (let first = 1; first <= loadEntries; first += batch) {
      const entries = [];
      for (let i = first; i < Math.min(first + batch, loadEntries + 1); i++) {
        entries.push({ index: i, term: 1, type: 0, data: payload });
      }
      await storage.logStore.save({ term: 1, vote: 1, commit: 0 }, entries, { sync: false });
    }
    await storage.close();
    const rssBefore = process.memoryUsage().rss;
    const start = performance.now();
    storage = await openRocksStorage({ dir, clusterId: "bench", memberId: 1 });
    await storage.logStore.load();
    const ms = performance.now() - start;
    const rssMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const last = storage.logStore.lastIndex();
    await storage.close();
    if (last !== loadEntries) throw new Error(`loaded ${last} entries, expected ${loadEntries}`);
    return { ms, rssMb };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The disk is shared and its speed drifts, so the raw rate and the single-writer rate are
// measured in alternating short rounds and compared round by round (medians reported).
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const raws = [];
const singles = [];
for (let round = 0; round < 6; round++) {
  raws.push(rawFsyncRate(base, seconds / 6));
  singles.push(await syncedAppends(1, seconds / 6));
}
const fsync = median(raws);
const single = median(singles);
const ratio = median(singles.map((x, i) => x / raws[i]));
rows.push([
  "raw fdatasync of the data dir's disk (256 B write + fdatasync)",
  `${fsync.toFixed(0)}/s`,
  `physical limit; rounds: ${raws.map((x) => x.toFixed(0)).join(", ")}`,
]);
rows.push([
  "synced appends, 1 writer, one 256 B entry per save",
  `${single.toFixed(0)} entries/s`,
  `${(ratio * 100).toFixed(0)}% of raw fdatasync, median of alternating rounds (target ≥ 80%)`,
]);
for (const writers of [16, 128]) {
  const rate = await syncedAppends(writers);
  rows.push([
    `group commit, ${writers} concurrent writers, 256 B entries`,
    `${rate.toFixed(0)} entries/s`,
    writers === 128 ? "target ≥ 50,000" : "",
  ]);
}
const load = await loadTime();
rows.push([
  `load() of a ${loadEntries.toLocaleString("en")}-entry log (256 B entries)`,
  `${(load.ms / 1000).toFixed(2)} s`,
  `+${load.rssMb.toFixed(0)} MiB RSS`,
]);

console.log(`| case (${seconds} s each, dir on ${base}) | result | note |`);
console.log("| --- | --- | --- |");
for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
