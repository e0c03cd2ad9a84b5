import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InvalidArgumentError, SnapshotReleasedError } from "./errors.js";
import { RaftWal } from "./raft-wal.js";
import type { MvccEntry, MvccReader } from "./rocks-mvcc-backend.js";
import { openRocksStorage, type RocksStorage } from "./rocks-storage.js";

const dirs: string[] = [];
const opened: RocksStorage[] = [];

async function openFresh(dir?: string): Promise<RocksStorage> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), "wal-rocksdb-mvcc-")));
  if (dir === undefined) dirs.push(d);
  const storage = await openRocksStorage({ dir: d, clusterId: "mvcc", memberId: 1 });
  opened.push(storage);
  return storage;
}

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const k = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);
const put = (key: string, value: string) => ({
  type: "put" as const,
  key: k(key),
  value: k(value),
});

async function collect(reader: MvccReader, options = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const e of reader.range(options) as AsyncIterable<MvccEntry>) {
    out.push(`${text(e.key)}=${text(e.value)}`);
  }
  return out;
}

describe("RocksMvccBackend", () => {
  it("does not wait for the Raft log's write in flight: applies and saves queue apart", async () => {
    const storage = await openFresh();
    await storage.logStore.load();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // The Raft log's synced write is held until the gate opens.
    type Writer = { writeGroup(...args: unknown[]): Promise<void> };
    const proto = RaftWal.prototype as unknown as Writer;
    const writeGroup = proto.writeGroup;
    const held = vi.spyOn(proto, "writeGroup").mockImplementation(function (
      this: Writer,
      ...args: unknown[]
    ) {
      return gate.then(() => writeGroup.apply(this, args));
    });
    try {
      let saved = false;
      const save = storage.logStore
        .save({ term: 1, vote: 0, commit: 0 }, [{ term: 1, index: 1, type: 0, data: k("e") }], {
          sync: true,
        })
        .then(() => {
          saved = true;
        });
      await storage.backend.write({ operations: [put("a", "1")], appliedIndex: 1 });
      expect(saved).toBe(false);
      expect(text(await storage.backend.get(k("a")))).toBe("1");
      open();
      await save;
    } finally {
      open();
      held.mockRestore();
    }
  });

  it("reads back what a batch wrote, in byte order, with bounds, reverse and limit", async () => {
    const { backend } = await openFresh();
    await backend.write({
      operations: [put("b", "2"), put("a", "1"), put("d", "4"), put("c", "3")],
      appliedIndex: 7,
    });
    expect(text(await backend.get(k("c")))).toBe("3");
    expect(await backend.get(k("zz"))).toBeUndefined();
    expect(await collect(backend)).toEqual(["a=1", "b=2", "c=3", "d=4"]);
    expect(await collect(backend, { gte: k("b"), lt: k("d") })).toEqual(["b=2", "c=3"]);
    expect(await collect(backend, { reverse: true, limit: 2 })).toEqual(["d=4", "c=3"]);
    expect(await collect(backend, { limit: 0 })).toEqual([]);
    expect(backend.appliedIndex()).toBe(7);
  });

  it("applies delete and deleteRange atomically with the applied index, across a restart", async () => {
    let storage = await openFresh();
    await storage.backend.write({
      operations: [put("a", "1"), put("b", "2"), put("c", "3"), put("d", "4")],
      appliedIndex: 1,
    });
    await storage.backend.write({
      operations: [
        { type: "delete", key: k("a") },
        { type: "deleteRange", gte: k("b"), lt: k("d") },
      ],
      appliedIndex: 2,
      sync: true,
    });
    const dir = storage.dir;
    await storage.close();
    storage = await openFresh(dir);
    expect(storage.backend.appliedIndex()).toBe(2);
    expect(await collect(storage.backend)).toEqual(["d=4"]);
  });

  it("leaves the applied index unchanged when a batch carries none", async () => {
    const { backend } = await openFresh();
    await backend.write({ operations: [put("a", "1")], appliedIndex: 5 });
    await backend.write({ operations: [put("b", "2")] });
    expect(backend.appliedIndex()).toBe(5);
  });

  it("refuses an applied index that goes back, writing nothing", async () => {
    const { backend } = await openFresh();
    await backend.write({ operations: [put("a", "1")], appliedIndex: 5 });
    await expect(backend.write({ operations: [put("a", "2")], appliedIndex: 4 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      backend.write({ operations: [{ type: "put", key: "a" as never, value: k("x") }] }),
    ).rejects.toThrow(/malformed operation/);
    expect(text(await backend.get(k("a")))).toBe("1");
  });

  it("refuses an applied index below one accepted earlier but not yet completed", async () => {
    const storage = await openFresh();
    const first = storage.backend.write({ operations: [put("a", "1")], appliedIndex: 5 });
    await expect(
      storage.backend.write({ operations: [put("a", "2")], appliedIndex: 4 }),
    ).rejects.toThrow(InvalidArgumentError);
    await first;
    const dir = storage.dir;
    await storage.close();
    const again = await openFresh(dir);
    expect(again.backend.appliedIndex()).toBe(5);
  });

  it("a snapshot keeps its point-in-time view while later writes land", async () => {
    const { backend } = await openFresh();
    await backend.write({ operations: [put("a", "1"), put("b", "1")], appliedIndex: 1 });
    const snap = backend.snapshot();
    await backend.write({
      operations: [put("a", "2"), { type: "delete", key: k("b") }, put("c", "2")],
      appliedIndex: 2,
    });
    expect(snap.appliedIndex).toBe(1);
    expect(await collect(snap)).toEqual(["a=1", "b=1"]);
    expect(text(await snap.get(k("a")))).toBe("1");
    expect(await collect(backend)).toEqual(["a=2", "c=2"]);
    snap.release();
  });

  it("a snapshot taken while a write is in flight does not see that write", async () => {
    const { backend } = await openFresh();
    await backend.write({ operations: [put("a", "1")], appliedIndex: 1 });
    let caughtInFlight = 0;
    for (let round = 2; round < 40; round++) {
      let resolved = false;
      const writing = backend
        .write({ operations: [put("a", String(round))], appliedIndex: round, sync: true })
        .then(() => {
          resolved = true;
        });
      // Wait until RocksDB has applied the write while its WAL sync is still running:
      // the write is visible to live reads, but its promise has not resolved yet.
      while (!resolved && text(await backend.get(k("a"))) !== String(round)) {}
      if (!resolved) {
        caughtInFlight++;
        const snap = backend.snapshot();
        expect(snap.appliedIndex).toBe(round - 1);
        expect(text(await snap.get(k("a")))).toBe(String(round - 1));
        snap.release();
      }
      await writing;
      const after = backend.snapshot();
      expect(after.appliedIndex).toBe(round);
      expect(text(await after.get(k("a")))).toBe(String(round));
      after.release();
    }
    expect(caughtInFlight).toBeGreaterThan(0);
  });

  it("reads through a released snapshot reject with SnapshotReleasedError", async () => {
    const { backend } = await openFresh();
    const snap = backend.snapshot();
    snap.release();
    snap.release();
    await expect(snap.get(k("a"))).rejects.toThrow(SnapshotReleasedError);
    await expect(collect(snap)).rejects.toThrow(SnapshotReleasedError);
  });

  it("an iterator abandoned early does not keep the store from closing", async () => {
    const storage = await openFresh();
    await storage.backend.write({
      operations: Array.from({ length: 1000 }, (_, i) =>
        put(`k${String(i).padStart(4, "0")}`, "v"),
      ),
    });
    for await (const _ of storage.backend.range({})) break;
    const it = storage.backend.range({})[Symbol.asyncIterator]();
    await it.next();
    const snap = storage.backend.snapshot();
    await storage.close();
    await expect(snap.get(k("a"))).rejects.toThrow(SnapshotReleasedError);
    await expect(storage.backend.get(k("a"))).rejects.toMatchObject({ code: "STORE_CLOSED" });
  });

  it("MVCC keys never collide with the raft log in the same database", async () => {
    const { backend, logStore } = await openFresh();
    await logStore.load();
    await logStore.save(
      { term: 1, vote: 1, commit: 0 },
      [{ index: 1, term: 1, type: 0, data: k("x") }],
      {
        sync: true,
      },
    );
    await backend.write({ operations: [put("\u0001", "mvcc")] });
    expect(await collect(backend)).toEqual(["\u0001=mvcc"]);
    expect(logStore.entries(1, 2, Infinity)).toHaveLength(1);
  });
});
