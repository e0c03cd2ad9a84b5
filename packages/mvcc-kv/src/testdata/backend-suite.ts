/**
 * The rules every `MvccBackend` must follow, as one vitest suite that each
 * implementation's test runs (in-memory here; RocksDB from @raftkv/wal-rocksdb in
 * `backends.ts`). Test-only: not part of the build.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { BackendEntry, BackendReader, MvccBackend } from "../backend.js";

export interface BackendFactory {
  /** A name for the test titles. */
  name: string;
  /** A new, empty backend. */
  create(): Promise<MvccBackend>;
  /**
   * Closes `backend` and opens the same store again, as a process restart would. For a
   * volatile backend, returns the same object (left open).
   */
  reopen(backend: MvccBackend): Promise<MvccBackend>;
}

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const s = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function collect(iterable: AsyncIterable<BackendEntry>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const { key, value } of iterable) out.push([text(key), text(value)]);
  return out;
}

async function keysOf(reader: BackendReader, options = {}): Promise<string[]> {
  return (await collect(reader.range(options))).map(([k]) => k);
}

export function backendSuite(factory: BackendFactory): void {
  describe(`MvccBackend rules: ${factory.name}`, () => {
    const open: MvccBackend[] = [];
    afterEach(async () => {
      for (const backend of open.splice(0)) await backend.close().catch(() => {});
    });
    async function fresh(): Promise<MvccBackend> {
      const backend = await factory.create();
      open.push(backend);
      return backend;
    }

    it("starts empty with applied index 0", async () => {
      const backend = await fresh();
      expect(backend.appliedIndex()).toBe(0);
      expect(await backend.get(s("a"))).toBeUndefined();
      expect(await keysOf(backend)).toEqual([]);
    });

    it("applies a batch's operations in order and stores its applied index", async () => {
      const backend = await fresh();
      await backend.write({
        operations: [
          { type: "put", key: s("a"), value: s("1") },
          { type: "put", key: s("b"), value: s("2") },
          { type: "delete", key: s("a") },
          { type: "put", key: s("a"), value: s("3") },
          { type: "put", key: s("c"), value: s("4") },
          { type: "delete", key: s("c") },
        ],
        appliedIndex: 7,
      });
      expect(backend.appliedIndex()).toBe(7);
      expect(await collect(backend.range({}))).toEqual([
        ["a", "3"],
        ["b", "2"],
      ]);
      await backend.write({ operations: [{ type: "put", key: s("d"), value: s("5") }] });
      expect(backend.appliedIndex()).toBe(7);
      await backend.write({ operations: [], appliedIndex: 9 });
      expect(backend.appliedIndex()).toBe(9);
    });

    it("orders keys by unsigned bytes, a prefix before its extensions", async () => {
      const backend = await fresh();
      const keys = [b(0x02), b(0x01, 0xff), b(0x01), b(0x01, 0x00), b(0x80), b(0x00)];
      await backend.write({
        operations: keys.map((key, i) => ({ type: "put" as const, key, value: b(i) })),
      });
      const seen: number[][] = [];
      for await (const { key } of backend.range({})) seen.push([...key]);
      expect(seen).toEqual([[0x00], [0x01], [0x01, 0x00], [0x01, 0xff], [0x02], [0x80]]);
    });

    it("ranges over [gte, lt), in reverse and with a limit", async () => {
      const backend = await fresh();
      const operations = [];
      for (let i = 0; i < 1000; i++) {
        operations.push({
          type: "put" as const,
          key: s(`k${String(i).padStart(4, "0")}`),
          value: s(`${i}`),
        });
      }
      await backend.write({ operations });
      const all = await keysOf(backend, { gte: s("k0100"), lt: s("k0400") });
      expect(all).toHaveLength(300);
      expect(all[0]).toBe("k0100");
      expect(all[299]).toBe("k0399");
      const reversed = await keysOf(backend, { gte: s("k0100"), lt: s("k0400"), reverse: true });
      expect(reversed).toEqual([...all].reverse());
      expect(await keysOf(backend, { gte: s("k0500"), limit: 3 })).toEqual([
        "k0500",
        "k0501",
        "k0502",
      ]);
      expect(await keysOf(backend, { lt: s("k0003"), reverse: true, limit: 2 })).toEqual([
        "k0002",
        "k0001",
      ]);
      expect(await keysOf(backend, { gte: s("z") })).toEqual([]);
    });

    it("lets a range be abandoned early", async () => {
      const backend = await fresh();
      const operations = [];
      for (let i = 0; i < 600; i++)
        operations.push({ type: "put" as const, key: s(`k${i}`), value: s("v") });
      await backend.write({ operations });
      let n = 0;
      for await (const _ of backend.range({})) if (++n === 5) break;
      expect(n).toBe(5);
      expect(await backend.get(s("k1"))).toEqual(s("v"));
    });

    it("deletes ranges [gte, lt) inside a batch", async () => {
      const backend = await fresh();
      await backend.write({
        operations: ["a", "b", "c", "d", "e"].map((k) => ({
          type: "put" as const,
          key: s(k),
          value: s(k),
        })),
      });
      await backend.write({
        operations: [
          { type: "deleteRange", gte: s("b"), lt: s("d") },
          { type: "put", key: s("c"), value: s("again") },
        ],
        appliedIndex: 3,
      });
      expect(await collect(backend.range({}))).toEqual([
        ["a", "a"],
        ["c", "again"],
        ["d", "d"],
        ["e", "e"],
      ]);
    });

    it("gives snapshots a fixed view: later puts, deletes and range deletes stay invisible", async () => {
      const backend = await fresh();
      await backend.write({
        operations: ["a", "b", "c"].map((k) => ({
          type: "put" as const,
          key: s(k),
          value: s("old"),
        })),
        appliedIndex: 4,
      });
      const snapshot = backend.snapshot();
      await backend.write({
        operations: [
          { type: "put", key: s("a"), value: s("new") },
          { type: "delete", key: s("b") },
          { type: "deleteRange", gte: s("c"), lt: s("d") },
          { type: "put", key: s("z"), value: s("new") },
        ],
        appliedIndex: 5,
      });
      expect(snapshot.appliedIndex).toBe(4);
      expect(text((await snapshot.get(s("a")))!)).toBe("old");
      expect(await collect(snapshot.range({}))).toEqual([
        ["a", "old"],
        ["b", "old"],
        ["c", "old"],
      ]);
      expect(await collect(backend.range({}))).toEqual([
        ["a", "new"],
        ["z", "new"],
      ]);
      snapshot.release();
      snapshot.release();
      await expect(snapshot.get(s("a"))).rejects.toThrow();
    });

    it("keeps completed writes and the applied index across a reopen", async () => {
      let backend = await fresh();
      await backend.write({
        operations: [{ type: "put", key: s("a"), value: s("1") }],
        appliedIndex: 11,
      });
      await backend.write({
        operations: [{ type: "put", key: s("b"), value: s("2") }],
        appliedIndex: 12,
        sync: true,
      });
      backend = await factory.reopen(backend);
      open.push(backend);
      expect(backend.appliedIndex()).toBe(12);
      expect(await collect(backend.range({}))).toEqual([
        ["a", "1"],
        ["b", "2"],
      ]);
    });

    it("rejects use after close", async () => {
      const backend = await factory.create();
      await backend.close();
      await expect(backend.get(s("a"))).rejects.toThrow();
      await expect(backend.write({ operations: [] })).rejects.toThrow();
    });
  });
}
