/**
 * mvcc-kv benchmarks: applied puts per second (256-byte values, 100,000 keys) with 1,000
 * entries per apply call and with one entry per call, a txn (compare + put), point and
 * 100-key prefix ranges per second, and memory per key, on the in-memory backend and on
 * RocksDB (@raftkv/wal-rocksdb). Apply rates include making everything durable in the
 * backend at the end of each phase (`flush()`). Prints a markdown table.
 *
 *   pnpm --filter @raftkv/mvcc-kv bench   (MVCC_BENCH_KEYS to change 100,000,
 *     MVCC_BENCH_SINGLES to change 20,000, MVCC_BENCH_BATCH_LIMIT_OPS the store's
 *     batchLimitOps)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { KvRequestSchema, type RangeRequest, RangeRequestSchema } from "@raftkv/proto";
import { openRocksStorage } from "@raftkv/wal-rocksdb";
import type { MvccBackend } from "../backend.js";
import { createMemoryBackend } from "../memory-backend.js";
import { type ApplyEntry, type MvccStore, openMvccStore } from "../mvcc-store.js";

const KEYS = Number(process.env.MVCC_BENCH_KEYS ?? 100_000);
/** Entries applied one per `apply` call (what a lightly loaded server does). */
const SINGLES = Number(process.env.MVCC_BENCH_SINGLES ?? 20_000);
const VALUE = new Uint8Array(256).fill(0x76);
/** Entries per apply call: the server hands over a whole Ready's worth at once. */
const BATCH = 1000;
const enc = (text: string) => new TextEncoder().encode(text);
const keyOf = (i: number) => `key/${String(i).padStart(6, "0")}`;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function putEntries(
  from: number,
  count: number,
  firstIndex: number,
  requestIds: boolean,
): ApplyEntry[] {
  const entries: ApplyEntry[] = [];
  for (let i = 0; i < count; i++) {
    const request = create(KvRequestSchema, {
      id: requestIds ? BigInt(firstIndex + i) : 0n,
      request: { case: "put", value: { key: enc(keyOf((from + i) % KEYS)), value: VALUE } },
    });
    entries.push({
      index: firstIndex + i,
      term: 1,
      type: 0,
      data: toBinary(KvRequestSchema, request),
    });
  }
  return entries;
}

function txnEntries(count: number, firstIndex: number): ApplyEntry[] {
  const entries: ApplyEntry[] = [];
  for (let i = 0; i < count; i++) {
    const key = enc(keyOf((i * 7919) % KEYS));
    const request = create(KvRequestSchema, {
      id: BigInt(firstIndex + i),
      request: {
        case: "txn",
        value: {
          compare: [{ key, target: 0, result: 1, targetUnion: { case: "version", value: 0n } }],
          success: [
            { request: { case: "requestPut", value: { key, value: VALUE, prevKv: true } } },
          ],
        },
      },
    });
    entries.push({
      index: firstIndex + i,
      term: 1,
      type: 0,
      data: toBinary(KvRequestSchema, request),
    });
  }
  return entries;
}

/** Entries per wall-clock second, and per second of this process's CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

/**
 * Applies `entries` in batches of BATCH. CPU time is reported beside wall time because
 * this machine is shared: other processes stretch wall time, much less our CPU time
 * (which still includes our GC and, for RocksDB, the binding's worker threads).
 */
async function applyRate(store: MvccStore, entries: ApplyEntry[], batch = BATCH): Promise<Rate> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < entries.length; i += batch) await store.apply(entries.slice(i, i + batch));
  await store.flush();
  const used = process.cpuUsage(cpu);
  return {
    wall: entries.length / ((performance.now() - started) / 1000),
    cpu: entries.length / ((used.user + used.system) / 1e6),
  };
}

/** Runs `read` for about `ms` milliseconds, `concurrency` at a time; returns reads per second. */
async function readRate(
  ms: number,
  concurrency: number,
  read: (i: number) => Promise<unknown>,
): Promise<number> {
  let done = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      let i = worker;
      while (performance.now() < deadline) {
        await read(i);
        i += concurrency;
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

interface Row {
  backend: string;
  fill: Rate;
  overwrite: Rate;
  overwriteWithIds: Rate;
  singles: Rate;
  txn: Rate;
  point: number;
  prefix: number;
  heapPerKey: number;
}

async function run(name: string, backend: MvccBackend): Promise<Row> {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const store = await openMvccStore({
    backend,
    ...(process.env.MVCC_BENCH_BATCH_LIMIT_OPS === undefined
      ? {}
      : { batchLimitOps: Number(process.env.MVCC_BENCH_BATCH_LIMIT_OPS) }),
  });
  let index = 1;
  const fillEntries = putEntries(0, KEYS, index, false);
  index += KEYS;
  const fill = await applyRate(store, fillEntries);
  fillEntries.length = 0;
  gc();
  // One version per key: the key index, the latest-value cache and (in memory) the backend.
  const heapPerKey = (process.memoryUsage().heapUsed - heapBefore) / KEYS;
  const overwrite = await applyRate(store, putEntries(0, KEYS, index, false));
  index += KEYS;
  const overwriteWithIds = await applyRate(store, putEntries(0, KEYS, index, true));
  index += KEYS;
  const singles = await applyRate(store, putEntries(0, SINGLES, index, true), 1);
  index += SINGLES;
  const txnCount = Math.min(KEYS, 50_000);
  const txn = await applyRate(store, txnEntries(txnCount, index));
  index += txnCount;

  const pointRequests: RangeRequest[] = Array.from({ length: 1024 }, (_, i) =>
    create(RangeRequestSchema, { key: enc(keyOf((i * 7919) % KEYS)) }),
  );
  const prefixes = Math.max(1, Math.floor(KEYS / 100));
  const prefixRequests: RangeRequest[] = Array.from(
    { length: Math.min(prefixes, 1024) },
    (_, i) => {
      const p = String(i % prefixes).padStart(4, "0");
      return create(RangeRequestSchema, { key: enc(`key/${p}`), rangeEnd: enc(`key/${p}\u00ff`) });
    },
  );
  const point = await readRate(2000, 16, (i) =>
    store.range(pointRequests[i % pointRequests.length]!),
  );
  const prefix = await readRate(2000, 16, (i) =>
    store.range(prefixRequests[i % prefixRequests.length]!),
  );
  const check = await store.range(prefixRequests[0]!);
  if (check.kvs.length !== Math.min(100, KEYS))
    throw new Error(`prefix range returned ${check.kvs.length} keys`);
  await store.close();
  return {
    backend: name,
    fill,
    overwrite,
    overwriteWithIds,
    singles,
    txn,
    point,
    prefix,
    heapPerKey,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const both = (r: Rate) => `${fmt(r.wall)} (${fmt(r.cpu)})`;

const loadAtStart = loadavg()[0]!;
const rows: Row[] = [];
rows.push(await run("memory", createMemoryBackend()));
const dir = mkdtempSync(join(tmpdir(), "raftkv-mvcc-bench-"));
try {
  const storage = await openRocksStorage({ dir, clusterId: "bench", memberId: 1 });
  rows.push(await run("rocksdb", storage.backend));
  await storage.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const [load1] = loadavg();
process.stdout.write(
  `${KEYS.toLocaleString("en-US")} keys, 256-byte values, ${BATCH} entries per apply call; reads 16 concurrent, 2 s each; load average at start ${loadAtStart.toFixed(2)}, at end ${load1!.toFixed(2)}. Apply columns: per wall second (per CPU second); the single-entry column applies ${SINGLES.toLocaleString("en-US")} puts with ids one per call.\n\n`,
);
process.stdout.write(
  "| backend | fill puts/s | overwrite puts/s | overwrite, with request ids | same, one entry per apply | txn (compare + put, prev_kv)/s | point range/s | 100-key prefix range/s | heap bytes/key after fill |\n",
);
process.stdout.write("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
for (const r of rows) {
  process.stdout.write(
    `| ${r.backend} | ${both(r.fill)} | ${both(r.overwrite)} | ${both(r.overwriteWithIds)} | ${both(r.singles)} | ${both(r.txn)} | ${fmt(r.point)} | ${fmt(r.prefix)} | ${fmt(r.heapPerKey)} |\n`,
  );
}
