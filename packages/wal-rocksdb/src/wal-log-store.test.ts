import { open as fsOpen, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry, HardState } from "@raftkv/raft-core";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  CorruptionError,
  DataDirLockedError,
  DataDirMismatchError,
  InvalidArgumentError,
} from "./errors.js";
import { MetaKey } from "./keys.js";
import { encodeIdentity } from "./meta-codec.js";
import { createNativeDb } from "./native.js";
import { SEGMENT_HEADER_BYTES } from "./raft-wal.js";
import {
  type OpenRocksStorageOptions,
  openRocksStorage,
  type RocksStorage,
} from "./rocks-storage.js";
import { encodeSaveRecord, readRecord } from "./wal-record.js";

const dirs: string[] = [];
const open: RocksStorage[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wal-rocksdb-test-"));
  dirs.push(dir);
  return dir;
}

/** Options the tests vary; the cluster and member stay the same. */
type Extra = Pick<OpenRocksStorageOptions, "logger" | "registry" | "walSegmentBytes">;

async function openAt(dir: string, extra: Extra = {}) {
  const storage = await openRocksStorage({ dir, clusterId: "test", memberId: 1, ...extra });
  open.push(storage);
  return storage;
}

async function reopen(storage: RocksStorage, extra: Extra = {}) {
  await storage.close();
  const next = await openAt(storage.dir, extra);
  await next.logStore.load();
  return next;
}

/** Writes raw bytes under a key, bypassing every check, to simulate disk damage. */
async function tamper(dir: string, key: Uint8Array, value: Uint8Array | null): Promise<void> {
  const db = createNativeDb(dir, {});
  await db.ready();
  const batch = db.write({ autoDestroy: true });
  if (value === null) batch.tryDelete(key);
  else batch.tryPut(key, value);
  await batch.flush();
  await db.close();
}

/** The raft log's segment files, oldest first. */
async function segments(dir: string): Promise<string[]> {
  return (await readdir(join(dir, "raft"))).filter((n) => n.endsWith(".wal")).sort();
}

/** The only segment's path and the offsets of its records. */
async function records(dir: string): Promise<{ path: string; offsets: number[] }> {
  const [name, ...more] = await segments(dir);
  expect(more).toEqual([]);
  const path = join(dir, "raft", name as string);
  const buf = await readFile(path);
  const offsets: number[] = [];
  for (let at = SEGMENT_HEADER_BYTES; ; ) {
    const r = readRecord(buf, at);
    if (r.status !== "record") break;
    offsets.push(at);
    at = r.next;
  }
  return { path, offsets };
}

/** Overwrites `length` bytes at `offset` with `byte`, to simulate disk damage. */
async function damage(path: string, offset: number, length: number, byte: number): Promise<void> {
  const fh = await fsOpen(path, "r+");
  await fh.write(Buffer.alloc(length, byte), 0, length, offset);
  await fh.close();
}

async function openLoadClose(dir: string): Promise<void> {
  const storage = await openAt(dir);
  await storage.logStore.load();
  await storage.close();
}

/** Replaces the raft log of a closed data dir with one segment holding `recordsToWrite`. */
async function writeSegment(dir: string, recordsToWrite: Buffer[]): Promise<void> {
  const [name] = await segments(dir);
  const path = join(dir, "raft", name as string);
  const header = (await readFile(path)).subarray(0, SEGMENT_HEADER_BYTES);
  await writeFile(path, Buffer.concat([header, ...recordsToWrite]));
}

class CapturingLogger {
  readonly warnings: Array<Record<string, unknown>> = [];
  readonly infos: Array<{ fields: Record<string, unknown>; message: string }> = [];
  info(fields: Record<string, unknown>, message: string) {
    this.infos.push({ fields, message });
  }
  error() {}
  warn(fields: Record<string, unknown>) {
    this.warnings.push(fields);
  }
}

function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: 0, data: new TextEncoder().encode(text) };
}

function range(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

const hs = (term: number, vote: number, commit: number): HardState => ({ term, vote, commit });
const sync = { sync: true };

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("WalLogStore", () => {
  it("starts empty: zero hard state, first index 1, last index 0", async () => {
    const { logStore } = await openAt(await tempDir());
    const state = await logStore.load();
    expect(state.hardState).toEqual(hs(0, 0, 0));
    expect(state.confState.voters).toEqual([]);
    expect(logStore.firstIndex()).toBe(1);
    expect(logStore.lastIndex()).toBe(0);
    expect(logStore.term(0)).toBe(0);
  });

  it("keeps saved entries and hard state across a restart", async () => {
    let storage = await openAt(await tempDir());
    await storage.logStore.load();
    await storage.logStore.save(hs(2, 1, 3), range(1, 5, 2), sync);
    storage = await reopen(storage);
    const { logStore } = storage;
    expect(logStore.lastIndex()).toBe(5);
    expect(logStore.entries(1, 6, Number.MAX_SAFE_INTEGER)).toEqual(range(1, 5, 2));
    const again = await openAt(await tempDir());
    await again.logStore.load();
    expect(storage.logStore.term(5)).toBe(2);
  });

  it("reads entries synchronously as soon as save is called, before it resolves", async () => {
    const { logStore } = await openAt(await tempDir());
    await logStore.load();
    const saving = logStore.save(undefined, range(1, 3, 1), sync);
    expect(logStore.lastIndex()).toBe(3);
    await saving;
  });

  it("appending below the last index replaces the conflicting suffix, durably", async () => {
    let storage = await openAt(await tempDir());
    await storage.logStore.load();
    await storage.logStore.save(hs(1, 1, 2), range(1, 5, 1), sync);
    await storage.logStore.save(hs(2, 2, 2), range(3, 4, 2), sync);
    expect(storage.logStore.lastIndex()).toBe(4);
    storage = await reopen(storage);
    expect(storage.logStore.lastIndex()).toBe(4);
    expect(storage.logStore.entries(1, 5, Infinity).map((e) => e.term)).toEqual([1, 1, 2, 2]);
  });

  it("skips entries already covered by the snapshot", async () => {
    const { logStore } = await openAt(await tempDir());
    await logStore.load();
    await logStore.save(hs(1, 1, 5), range(1, 5, 1), sync);
    await logStore.compact(3, { ...emptyConf(), voters: [1] });
    await logStore.save(undefined, range(2, 7, 1), sync);
    expect(logStore.firstIndex()).toBe(4);
    expect(logStore.lastIndex()).toBe(7);
  });

  it("rejects a gap, non-contiguous entries and decreasing terms, writing nothing", async () => {
    let storage = await openAt(await tempDir());
    const { logStore } = storage;
    await logStore.load();
    await logStore.save(hs(2, 1, 0), range(1, 3, 2), sync);
    await expect(logStore.save(undefined, [entry(5, 2)], sync)).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(logStore.save(undefined, [entry(4, 2), entry(6, 2)], sync)).rejects.toThrow(
      /not contiguous/,
    );
    await expect(logStore.save(undefined, [entry(4, 1)], sync)).rejects.toThrow(/lower than term/);
    await expect(
      logStore.save(
        undefined,
        [{ index: 4, term: 2, type: 9, data: new Uint8Array() } as never],
        sync,
      ),
    ).rejects.toThrow(/malformed entry/);
    storage = await reopen(storage);
    expect(storage.logStore.lastIndex()).toBe(3);
  });

  it("refuses a hard state whose term goes back or whose vote changes within a term", async () => {
    const { logStore } = await openAt(await tempDir());
    await logStore.load();
    await logStore.save(hs(5, 2, 0), [], sync);
    await expect(logStore.save(hs(4, 2, 0), [], sync)).rejects.toThrow(/term 4 is below/);
    await expect(logStore.save(hs(5, 3, 0), [], sync)).rejects.toThrow(/changes the vote/);
    await logStore.save(hs(6, 3, 0), [], sync);
  });

  it("refuses a hard state that commits beyond the log it would leave", async () => {
    const { logStore } = await openAt(await tempDir());
    await logStore.load();
    await expect(logStore.save(hs(1, 1, 3), range(1, 2, 1), sync)).rejects.toThrow(
      /commits index 3 but the log would end at 2/,
    );
    expect(logStore.lastIndex()).toBe(0);
    await logStore.save(hs(1, 1, 2), range(1, 2, 1), sync);
  });

  it("compact drops entries with a range delete and records the snapshot point", async () => {
    let storage = await openAt(await tempDir());
    await storage.logStore.load();
    await storage.logStore.save(hs(3, 1, 8), range(1, 10, 3), sync);
    const conf = { ...emptyConf(), voters: [1, 2, 3] };
    await storage.logStore.compact(6, conf);
    storage = await reopen(storage);
    const { logStore } = storage;
    expect(logStore.firstIndex()).toBe(7);
    expect(logStore.lastIndex()).toBe(10);
    expect(logStore.term(6)).toBe(3);
    expect(() => logStore.term(5)).toThrow(expect.objectContaining({ code: "COMPACTED" }));
    expect(() => logStore.entries(5, 8, Infinity)).toThrow(
      expect.objectContaining({ code: "COMPACTED" }),
    );
    expect(logStore.snapshotMetadata()).toEqual({ index: 6, term: 3, confState: conf });
    expect((await logStore.load().catch((e) => e)).code).toBe("INVALID_ARGUMENT");
  });

  it("compact refuses indexes beyond the last index and ignores those below the snapshot", async () => {
    const { logStore } = await openAt(await tempDir());
    await logStore.load();
    await logStore.save(hs(1, 1, 4), range(1, 6, 1), sync);
    await expect(logStore.compact(7, emptyConf())).rejects.toThrow(/beyond the last index/);
    await logStore.compact(3, emptyConf());
    await logStore.compact(2, emptyConf());
    await logStore.compact(3, emptyConf());
    expect(logStore.firstIndex()).toBe(4);
  });

  it("applySnapshot drops the whole log and starts it after the snapshot", async () => {
    let storage = await openAt(await tempDir());
    await storage.logStore.load();
    await storage.logStore.save(hs(1, 1, 2), range(1, 6, 1), sync);
    const conf = { ...emptyConf(), voters: [1, 2] };
    await storage.logStore.applySnapshot({ index: 4, term: 1, confState: conf });
    await expect(
      storage.logStore.applySnapshot({ index: 3, term: 1, confState: emptyConf() }),
    ).rejects.toThrow(/older than the current one/);
    await storage.close();
    storage = await openAt(storage.dir);
    expect((await storage.logStore.load()).confState).toEqual(conf);
    expect(storage.logStore.firstIndex()).toBe(5);
    expect(storage.logStore.lastIndex()).toBe(4);
    expect(storage.logStore.term(4)).toBe(1);
  });

  it("entries stops before exceeding maxBytes but returns at least one", async () => {
    const { logStore } = await openAt(await tempDir());
    await logStore.load();
    await logStore.save(hs(1, 1, 0), range(1, 5, 1), sync);
    expect(logStore.entries(1, 6, 0)).toHaveLength(1);
    const one = logStore.entries(1, 2, Infinity)[0] as Entry;
    const size = one.data.length;
    expect(logStore.entries(1, 6, size * 3)).toHaveLength(3);
    expect(() => logStore.entries(1, 7, Infinity)).toThrow(
      expect.objectContaining({ code: "UNAVAILABLE" }),
    );
  });

  it("group commit merges concurrent saves, which land in call order", async () => {
    let storage = await openAt(await tempDir());
    await storage.logStore.load();
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 200; i++) {
      saves.push(storage.logStore.save(hs(1, 1, i - 1), [entry(i, 1)], sync));
    }
    await Promise.all(saves);
    await storage.close();
    storage = await openAt(storage.dir);
    // Merged saves rewrite the hard state once per group; the last one must win.
    expect((await storage.logStore.load()).hardState).toEqual(hs(1, 1, 199));
    expect(storage.logStore.lastIndex()).toBe(200);
    expect(storage.logStore.entries(1, 201, Infinity)).toEqual(range(1, 200, 1));
  });

  it("keeps saves across many segments and deletes the segments a snapshot covers", async () => {
    const logger = new CapturingLogger();
    const dir = await tempDir();
    const openSmall = () => openAt(dir, { logger, walSegmentBytes: 16 * 1024 });
    let storage = await openSmall();
    await storage.logStore.load();
    const big = (i: number): Entry => ({
      index: i,
      term: 1,
      type: 0,
      data: new Uint8Array(2048).fill(i % 251),
    });
    for (let i = 1; i <= 200; i++) await storage.logStore.save(hs(1, 1, i - 1), [big(i)], sync);
    const moves = logger.infos.filter((x) => x.message.startsWith("raft log moved"));
    expect(moves.length).toBeGreaterThan(20);
    expect((await segments(dir)).length).toBe(moves.length + 1);

    await storage.close();
    storage = await openSmall();
    expect((await storage.logStore.load()).hardState).toEqual(hs(1, 1, 199));
    expect(storage.logStore.lastIndex()).toBe(200);
    for (const e of storage.logStore.entries(1, 201, Infinity)) {
      expect(e.data).toEqual(big(e.index).data);
    }

    // Segments holding only entries at or below 150 go once the compaction is durable.
    await storage.logStore.compact(150, emptyConf());
    const left = (await segments(dir)).length;
    expect(left).toBeLessThan(moves.length / 3);
    await storage.close();
    storage = await openSmall();
    await storage.logStore.load();
    expect(storage.logStore.firstIndex()).toBe(151);
    expect(storage.logStore.lastIndex()).toBe(200);
    expect(storage.logStore.entries(151, 201, Infinity).map((e) => e.data[0])).toEqual(
      Array.from({ length: 50 }, (_, i) => (151 + i) % 251),
    );
    // And writing goes on in the last segment.
    await storage.logStore.save(hs(1, 1, 200), [big(201)], sync);
    storage = await reopen(storage);
    expect(storage.logStore.lastIndex()).toBe(201);
  });

  it("a snapshot from the leader makes every older segment obsolete", async () => {
    const dir = await tempDir();
    const openSmall = () => openAt(dir, { walSegmentBytes: 8 * 1024 });
    let storage = await openSmall();
    await storage.logStore.load();
    for (let i = 1; i <= 40; i++) {
      await storage.logStore.save(hs(1, 1, 0), [entry(i, 1, "x".repeat(1000))], sync);
    }
    expect((await segments(dir)).length).toBeGreaterThan(4);
    await storage.logStore.applySnapshot({ index: 500, term: 3, confState: emptyConf() });
    // The next compaction (or segment switch) removes them.
    await storage.logStore.save(hs(3, 0, 500), [entry(501, 3)], sync);
    await storage.logStore.compact(500, emptyConf());
    expect((await segments(dir)).length).toBe(1);
    await storage.close();
    storage = await openSmall();
    await storage.logStore.load();
    expect(storage.logStore.firstIndex()).toBe(501);
    expect(storage.logStore.entries(501, 502, Infinity)).toEqual([entry(501, 3)]);
  });

  it("keeps the hard state when a segment was left empty by a crash during a switch", async () => {
    const dir = await tempDir();
    const openSmall = () => openAt(dir, { walSegmentBytes: 8 * 1024 });
    let storage = await openSmall();
    await storage.logStore.load();
    for (let i = 1; i <= 20; i++) {
      await storage.logStore.save(hs(5, 2, i - 1), [entry(i, 5, "z".repeat(1000))], sync);
    }
    await storage.close();
    // The process stopped after the next segment got its name and before its first record.
    const names = await segments(dir);
    const seq = names.length + 1;
    const empty = Buffer.alloc(8 * 1024);
    empty.write("RKVRAFT1", 0, "latin1");
    empty.writeUInt32LE(seq, 8);
    await writeFile(join(dir, "raft", `${String(seq).padStart(16, "0")}.wal`), empty);
    storage = await openSmall();
    expect((await storage.logStore.load()).hardState).toEqual(hs(5, 2, 19));
    // Entries without a hard state, then a compaction that deletes every older segment.
    await storage.logStore.save(undefined, [entry(21, 5)], sync);
    await storage.logStore.compact(21, emptyConf());
    expect(await segments(dir)).toHaveLength(1);
    await storage.close();
    storage = await openSmall();
    expect((await storage.logStore.load()).hardState).toEqual(hs(5, 2, 19));
    expect(storage.logStore.firstIndex()).toBe(22);
  });

  it("saves issued while a write is in flight share the next write", async () => {
    const registry = new Registry();
    const storage = await openAt(await tempDir(), { registry });
    await storage.logStore.load();
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 100; i++)
      saves.push(storage.logStore.save(hs(1, 1, 0), [entry(i, 1)], sync));
    await Promise.all(saves);
    const metrics = await registry.getSingleMetricAsString("wal_group_commit_writes");
    const count = Number(/wal_group_commit_writes_count\{member="1"\} (\d+)/.exec(metrics)?.[1]);
    const sum = Number(/wal_group_commit_writes_sum\{member="1"\} (\d+)/.exec(metrics)?.[1]);
    // The first save is written at once; the 99 issued behind it go in one more write.
    expect(count).toBe(2);
    expect(sum).toBe(100);
  });

  it("cuts a torn write at the tail with a warning, and appends after it", async () => {
    let storage = await openAt(await tempDir());
    await storage.logStore.load();
    for (let i = 1; i <= 5; i++) await storage.logStore.save(hs(1, 1, i - 1), [entry(i, 1)], sync);
    await storage.close();
    const { path, offsets } = await records(storage.dir);
    // The last record was half written when the power went: part of it reads as zeros.
    await damage(path, (offsets.at(-1) as number) + 16, 64, 0);
    const logger = new CapturingLogger();
    storage = await openAt(storage.dir, { logger });
    expect((await storage.logStore.load()).hardState).toEqual(hs(1, 1, 3));
    expect(storage.logStore.lastIndex()).toBe(4);
    expect(logger.warnings).toEqual([expect.objectContaining({ lastIndex: 4 })]);
    await storage.logStore.save(hs(1, 1, 4), [entry(5, 2)], sync);
    storage = await reopen(storage);
    expect(storage.logStore.entries(1, 6, Infinity)).toEqual([...range(1, 4, 1), entry(5, 2)]);
  });

  it("refuses to start when a record before the tail is corrupt, naming the first lost index", async () => {
    const storage = await openAt(await tempDir());
    await storage.logStore.load();
    for (let i = 1; i <= 5; i++) await storage.logStore.save(hs(1, 1, i - 1), [entry(i, 1)], sync);
    await storage.close();
    const { path, offsets } = await records(storage.dir);
    // The record of the third save (entry 3), with two after it.
    await damage(path, (offsets.at(-3) as number) + 20, 1, 0xff);
    const again = await openAt(storage.dir);
    const err = await again.logStore.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).index).toBe(3);
    expect((err as Error).message).toMatch(/fails its checksum, and records follow it/);
  });

  it("refuses to start when a segment is missing", async () => {
    const dir = await tempDir();
    let storage = await openAt(dir, { walSegmentBytes: 8 * 1024 });
    await storage.logStore.load();
    for (let i = 1; i <= 30; i++) {
      await storage.logStore.save(hs(1, 1, 0), [entry(i, 1, "y".repeat(1000))], sync);
    }
    await storage.close();
    const names = await segments(dir);
    await rm(join(dir, "raft", names[1] as string));
    storage = await openAt(dir);
    await expect(storage.logStore.load()).rejects.toThrow(/segment 0+2\.wal is missing/);
  });

  it("refuses to start when entries are missing in the middle of the log", async () => {
    const dir = await tempDir();
    await openLoadClose(dir);
    await writeSegment(dir, [
      encodeSaveRecord(hs(1, 1, 0), range(1, 2, 1)),
      encodeSaveRecord(undefined, range(4, 5, 1)),
    ]);
    const storage = await openAt(dir);
    await expect(storage.logStore.load()).rejects.toMatchObject({
      code: "CORRUPTION",
      index: 3,
      message: expect.stringMatching(/entries 3 to 3 are missing/),
    });
  });

  it("refuses to start when committed entries are missing from the tail", async () => {
    const dir = await tempDir();
    await openLoadClose(dir);
    await writeSegment(dir, [encodeSaveRecord(hs(1, 1, 5), range(1, 4, 1))]);
    const storage = await openAt(dir);
    await expect(storage.logStore.load()).rejects.toMatchObject({ code: "CORRUPTION", index: 5 });
  });

  it("refuses to start on a segment with a bad header, or a data dir without its raft log", async () => {
    const dir = await tempDir();
    let storage = await openAt(dir);
    await storage.logStore.load();
    await storage.logStore.save(hs(1, 1, 0), [entry(1, 1)], sync);
    await storage.close();
    const [name] = await segments(dir);
    await damage(join(dir, "raft", name as string), 0, 4, 0x41);
    storage = await openAt(dir);
    await expect(storage.logStore.load()).rejects.toThrow(/has a bad header/);
    await storage.close();
    await rm(join(dir, "raft"), { recursive: true });
    await expect(openRocksStorage({ dir, clusterId: "test", memberId: 1 })).rejects.toMatchObject({
      code: "CORRUPTION",
      message: expect.stringMatching(/raft log directory .* is missing/),
    });
  });
});

describe("openRocksStorage", () => {
  it("refuses a data dir created for another cluster or member", async () => {
    const dir = await tempDir();
    await (await openRocksStorage({ dir, clusterId: "a", memberId: 1 })).close();
    await expect(openRocksStorage({ dir, clusterId: "b", memberId: 1 })).rejects.toThrow(
      /belongs to cluster "a", not "b"/,
    );
    await expect(openRocksStorage({ dir, clusterId: "a", memberId: 2 })).rejects.toThrow(
      DataDirMismatchError,
    );
    await (await openRocksStorage({ dir, clusterId: "a", memberId: 1 })).close();
  });

  it("refuses a data dir written in another format version", async () => {
    const dir = await tempDir();
    await (await openRocksStorage({ dir, clusterId: "a", memberId: 1 })).close();
    await tamper(
      dir,
      MetaKey.identity,
      encodeIdentity({ formatVersion: 1, clusterId: "a", memberId: 1 }),
    );
    await expect(openRocksStorage({ dir, clusterId: "a", memberId: 1 })).rejects.toThrow(
      /format version 1; this version reads 2/,
    );
  });

  it("refuses a non-empty directory that is not a data dir", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "notes.txt"), "hello");
    await expect(openRocksStorage({ dir, clusterId: "a", memberId: 1 })).rejects.toMatchObject({
      code: "DATA_DIR_MISMATCH",
    });
  });

  it("allows only one open store per data dir", async () => {
    const dir = await tempDir();
    const first = await openAt(dir);
    await expect(openRocksStorage({ dir, clusterId: "test", memberId: 1 })).rejects.toThrow(
      DataDirLockedError,
    );
    await first.close();
    await (await openAt(dir)).close();
  });

  it("a data dir path that is a file fails with StorageFailedError", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "file"), "x");
    await expect(
      openRocksStorage({ dir: join(dir, "file"), clusterId: "a", memberId: 1 }),
    ).rejects.toMatchObject({ code: "STORAGE_FAILED" });
  });

  it("rejects malformed options with InvalidArgumentError", async () => {
    const dir = await tempDir();
    await expect(openRocksStorage({ dir, clusterId: "", memberId: 1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(openRocksStorage({ dir, clusterId: "a", memberId: 0 })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it("reports group commits and WAL syncs in the given prom-client registry", async () => {
    const registry = new Registry();
    const dir = await tempDir();
    const storage = await openRocksStorage({ dir, clusterId: "m", memberId: 3, registry });
    open.push(storage);
    await storage.logStore.load();
    await Promise.all([
      storage.logStore.save(hs(1, 1, 0), [entry(1, 1)], sync),
      storage.logStore.save(hs(1, 1, 0), [entry(2, 1)], sync),
    ]);
    const text = await registry.metrics();
    expect(text).toMatch(/wal_group_commit_writes_count\{member="3"\} [1-9]/);
    expect(text).toMatch(/wal_fsync_duration_seconds_count\{member="3"\} [1-9]/);
    expect(text).toContain("# TYPE wal_storage_failures_total counter");
  });

  it("rejects writes after close with StoreClosedError", async () => {
    const storage = await openAt(await tempDir());
    await storage.logStore.load();
    await storage.close();
    await expect(storage.logStore.save(undefined, [entry(1, 1)], sync)).rejects.toMatchObject({
      code: "STORE_CLOSED",
    });
  });
});

function emptyConf() {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}
