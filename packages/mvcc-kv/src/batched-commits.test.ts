import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { openRocksStorage } from "@raftkv/wal-rocksdb";
import { Registry } from "prom-client";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { ApplyResult } from "./apply-result.js";
import type { MvccBackend } from "./backend.js";
import { InvalidOptionError, StoreFailedError } from "./errors.js";
import { createMemoryBackend } from "./memory-backend.js";
import { type ApplyEntry, type MvccStore, openMvccStore } from "./mvcc-store.js";
import { backendFactories } from "./testdata/backends.js";
import { gatedBackend } from "./testdata/gated-backend.js";
import { dec, enc, Harness } from "./testdata/harness.js";
import { describeResult, replayLog } from "./testdata/replay-log.js";

/** Longer than any test: batches are written only when a test makes them. */
const NEVER = 2_000_000_000;

/** Lets timers, I/O callbacks and the microtasks after them run a few times. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/** Applies `entries` in calls of `per` entries; returns every result. */
async function applyIn(store: MvccStore, entries: ApplyEntry[], per: number) {
  const results: ApplyResult[] = [];
  for (let i = 0; i < entries.length; i += per)
    results.push(...(await store.apply(entries.slice(i, i + per))));
  return results;
}

describe.each(backendFactories)("batched backend commits on the $name backend", (factory) => {
  const backends: MvccBackend[] = [];
  afterEach(async () => {
    for (const backend of backends.splice(0)) await backend.close().catch(() => {});
  });
  async function created(): Promise<MvccBackend> {
    const backend = await factory.create();
    backends.push(backend);
    return backend;
  }

  it("applies puts and deletes and serves them to reads while the backend write never completes", async () => {
    const backend = gatedBackend(await created());
    backend.hold();
    const h = await Harness.open(backend, { batchIntervalMs: 0, valueCacheBytes: 0 });
    await h.put("a", "1");
    await settle();
    // The first batch is at the gate now; apply goes on regardless.
    expect(backend.waiting).toBe(1);
    await h.apply({ id: 7n, request: { case: "put", value: { key: enc("b"), value: enc("2") } } });
    await h.put("a", "3");
    await h.del("b");
    expect(h.store.lastAppliedIndex()).toBe(4);
    expect(h.store.appliedIndex()).toBe(0);
    expect(await h.get("a")).toEqual([["a", "3"]]);
    expect(await h.get("b")).toEqual([]);
    expect(await h.get("b", undefined, { revision: 3n })).toEqual([["b", "2"]]);
    const read = await h.store.txnRead(
      h.txnRequest({ success: [{ request: { case: "requestRange", value: { key: enc("a") } } }] }),
    );
    const range = read.responses[0]?.response;
    expect(range?.case === "responseRange" && dec(range.value.kvs[0]!.value)).toBe("3");
    backend.release();
    await h.store.flush();
    expect(h.store.appliedIndex()).toBe(4);
  });

  it("writes a batch when batchIntervalMs has passed, without a flush", async () => {
    const backend = gatedBackend(await created());
    const h = await Harness.open(backend, { batchIntervalMs: 20 });
    await h.applyAll([
      { request: { case: "put", value: { key: enc("a"), value: enc("1") } } },
      { request: { case: "put", value: { key: enc("b"), value: enc("2") } } },
    ]);
    await vi.waitFor(() => expect(h.store.appliedIndex()).toBe(2), { timeout: 30_000 });
    expect(backend.writes.map((w) => w.appliedIndex)).toEqual([2]);
  });

  it("writes a batch once it holds batchLimitOps operations or batchLimitBytes bytes", async () => {
    const backend = gatedBackend(await created());
    const h = await Harness.open(backend, {
      batchIntervalMs: NEVER,
      batchLimitOps: 10,
      batchLimitBytes: 1000,
    });
    await h.applyAll(
      Array.from({ length: 9 }, (_, i) => ({
        request: { case: "put" as const, value: { key: enc(`k${i}`), value: enc("v") } },
      })),
    );
    await settle();
    expect(backend.writes).toEqual([]);
    await h.put("k9", "v");
    await vi.waitFor(() => expect(h.store.appliedIndex()).toBe(10), { timeout: 30_000 });
    expect(backend.writes.map((w) => w.operations.length)).toEqual([10]);
    await h.put("big", "x".repeat(1000));
    await vi.waitFor(() => expect(h.store.appliedIndex()).toBe(11), { timeout: 30_000 });
    await h.put("small", "y");
    await settle();
    expect(h.store.appliedIndex()).toBe(11);
    expect(h.store.lastAppliedIndex()).toBe(12);
  });

  it("makes apply wait for the write in flight while more than maxPendingBytes are unwritten", async () => {
    const backend = gatedBackend(await created());
    const registry = new Registry();
    const h = await Harness.open(backend, {
      batchIntervalMs: 0,
      maxPendingBytes: 1000,
      registry,
    });
    backend.hold();
    await h.put("big", "x".repeat(2000));
    let second = false;
    const applying = h.put("next", "y").then(() => {
      second = true;
    });
    await settle();
    expect(backend.waiting).toBe(1);
    expect(second).toBe(false);
    // Reads are not held up, and see what was applied.
    expect((await h.get("big"))[0]?.[1]).toHaveLength(2000);
    backend.release();
    await applying;
    expect(await h.get("next")).toEqual([["next", "y"]]);
    expect(await registry.metrics()).toContain("raftkv_mvcc_backpressure_waits_total 1");
  });

  it("snapshots the applied state, also unwritten batches, with the index of the last applied entry", async () => {
    const backend = gatedBackend(await created());
    const source = await Harness.open(backend, { batchIntervalMs: NEVER });
    const log = replayLog(300, 7);
    await applyIn(source.store, log.slice(0, 120), 9);
    await source.store.flush();
    await applyIn(source.store, log.slice(120, 200), 9);
    // As raft-core does: between applies, then apply on before reading the stream.
    backend.hold();
    const stream = source.store.snapshot();
    const revision = source.store.currentRevision();
    await applyIn(source.store, log.slice(200), 9);
    expect(source.store.lastAppliedIndex()).toBe(300);
    backend.release();
    const chunks = await collect(stream);

    const target = await Harness.open(await created());
    await expect(target.store.restore({ index: 300 }, replay(chunks))).rejects.toMatchObject({
      code: "CORRUPT_STATE",
    });
    await target.store.restore({ index: 200 }, replay(chunks));
    expect(target.store.lastAppliedIndex()).toBe(200);
    expect(target.store.appliedIndex()).toBe(200);
    expect(target.store.currentRevision()).toBe(revision);
    // A store that applied exactly entries 1..200 holds the same bytes.
    const twin = await Harness.open(await created());
    await applyIn(twin.store, log.slice(0, 200), 50);
    expect(await target.store.hashKV()).toEqual(await twin.store.hashKV());
    expect(await target.dump()).toEqual(await twin.dump());
    // And the restored member goes on exactly as the source did.
    const rest = log.slice(200);
    const fromSource = await applyIn(twin.store, rest, 13);
    const fromTarget = await applyIn(target.store, rest, 5);
    expect(fromTarget.map(describeResult)).toEqual(fromSource.map(describeResult));
    expect(await target.store.hashKV()).toEqual(await source.store.hashKV());
  });

  it("reaches the same state and hash however members batch their writes", async () => {
    const log = replayLog(400, 3);
    const eager = await Harness.open(await created(), { batchIntervalMs: 0, batchLimitOps: 1 });
    const lazy = await Harness.open(await created(), { batchIntervalMs: NEVER });
    const a = await applyIn(eager.store, log, 1);
    const b = await applyIn(lazy.store, log, 64);
    expect(b.map(describeResult)).toEqual(a.map(describeResult));
    // lazy has written nothing yet; hashKV covers what is applied all the same.
    expect(lazy.store.appliedIndex()).toBe(0);
    expect(await lazy.store.hashKV()).toEqual(await eager.store.hashKV());
    expect(await lazy.dump()).toEqual(await eager.dump());
  });

  it("writes everything on close, so a reopen starts from the last applied entry", async () => {
    const backend = await created();
    const h = await Harness.open(backend, { batchIntervalMs: NEVER });
    await applyIn(h.store, replayLog(50), 4);
    const hash = await h.store.hashKV();
    const reopened = await h.reopen(factory.reopen);
    backends.push(reopened.backend);
    expect(reopened.store.appliedIndex()).toBe(50);
    expect(await reopened.store.hashKV()).toEqual(hash);
  });

  it("fails the store when a background write fails: the next apply and reads reject", async () => {
    const backend = gatedBackend(await created());
    const h = await Harness.open(backend, { batchIntervalMs: 0 });
    await h.put("a", "1");
    await h.store.flush();
    backend.failWith(new Error("disk full"));
    await h.put("a", "2");
    await vi.waitFor(() => expect(backend.writes).toHaveLength(2), { timeout: 30_000 });
    await settle();
    const error = await h.put("a", "3").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreFailedError);
    expect((error as Error).cause).toMatchObject({ message: "disk full" });
    await expect(h.range({ key: enc("a") })).rejects.toBeInstanceOf(StoreFailedError);
    expect(() => h.store.snapshot()).toThrow(StoreFailedError);
    expect(h.store.appliedIndex()).toBe(1);
  });

  it("rejects close with StoreFailedError when its last write fails", async () => {
    const backend = gatedBackend(await created());
    const h = await Harness.open(backend, { batchIntervalMs: NEVER });
    await h.put("a", "1");
    backend.failWith(new Error("disk gone"));
    await expect(h.store.close()).rejects.toBeInstanceOf(StoreFailedError);
  });
});

describe("restart after a crash with unwritten batches (RocksDB)", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("reopens at the last written index; replaying the log gives the same results and state", async () => {
    const dir = mkdtempSync(join(tmpdir(), "raftkv-mvcc-crash-"));
    dirs.push(dir);
    const log = replayLog(600, 11);
    const reference = await openMvccStore({ backend: createMemoryBackend() });
    const expected = await applyIn(reference, log, 10);

    let storage = await openRocksStorage({ dir, clusterId: "crash", memberId: 1 });
    const store = await openMvccStore({ backend: storage.backend, batchIntervalMs: NEVER });
    const first = await applyIn(store, log.slice(0, 250), 10);
    await store.flush();
    const second = await applyIn(store, log.slice(250), 10);
    expect([...first, ...second].map(describeResult)).toEqual(expected.map(describeResult));
    // The crash: the backend goes away with entries 251..600 applied in memory only.
    await storage.close();

    storage = await openRocksStorage({ dir, clusterId: "crash", memberId: 1 });
    try {
      const restarted = await openMvccStore({ backend: storage.backend });
      expect(restarted.appliedIndex()).toBe(250);
      expect(restarted.lastAppliedIndex()).toBe(250);
      // What raft-core does on start: apply the committed log after appliedIndex() again.
      const replayed = await applyIn(restarted, log.slice(250), 17);
      expect(replayed.map(describeResult)).toEqual(expected.slice(250).map(describeResult));
      expect(await restarted.hashKV()).toEqual(await reference.hashKV());
      await restarted.close();
    } finally {
      await storage.close();
    }
  });

  it("recovers the same way after SIGKILL of the applying process", async () => {
    const dir = mkdtempSync(join(tmpdir(), "raftkv-mvcc-kill-"));
    dirs.push(dir);
    const count = 500;
    const flushAt = 333;
    const here = dirname(fileURLToPath(import.meta.url));
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(here, "testdata", "crash-applier.ts"),
        dir,
        String(count),
        String(flushAt),
      ],
      { cwd: join(here, ".."), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const lines: string[] = [];
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => {
      child.on("exit", (code, signal) => resolve(signal ?? code));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      if (line === "ready") child.kill("SIGKILL");
    });
    expect(await exited, stderr).toBe("SIGKILL");
    expect(lines).toContain(`applied ${flushAt} ${count}`);

    const log = replayLog(count);
    const reference = await openMvccStore({ backend: createMemoryBackend() });
    const expected = (await applyIn(reference, log, 7)).map(describeResult);
    const childResults = lines
      .filter((l) => l.startsWith("result "))
      .map((l) => l.slice(l.indexOf(" ", 7) + 1));
    expect(childResults).toEqual(expected);

    const storage = await openRocksStorage({ dir, clusterId: "mvcc-crash", memberId: 1 });
    try {
      const restarted = await openMvccStore({ backend: storage.backend });
      expect(restarted.appliedIndex()).toBe(flushAt);
      const replayed = await applyIn(restarted, log.slice(flushAt), 9);
      expect(replayed.map(describeResult)).toEqual(expected.slice(flushAt));
      expect(await restarted.hashKV()).toEqual(await reference.hashKV());
      await restarted.close();
    } finally {
      await storage.close();
    }
  });
});

describe("batch options", () => {
  it.each([
    { batchIntervalMs: -1 },
    { batchIntervalMs: Number.NaN },
    { batchIntervalMs: 2 ** 31 },
    { batchLimitOps: 0 },
    { batchLimitBytes: -5 },
    { maxPendingBytes: 0 },
  ])("refuses %o with InvalidOptionError", async (options) => {
    await expect(openMvccStore({ backend: createMemoryBackend(), ...options })).rejects.toThrow(
      InvalidOptionError,
    );
  });

  it("reports commits, pending bytes and the durable index as metrics", async () => {
    const registry = new Registry();
    const backend = gatedBackend(createMemoryBackend());
    const h = await Harness.open(backend, { registry, batchIntervalMs: NEVER });
    await h.put("a", "1");
    let text = await registry.metrics();
    expect(text).toMatch(/raftkv_mvcc_backend_pending_bytes [1-9]/);
    expect(text).toContain("raftkv_mvcc_durable_applied_index 0");
    await h.store.flush();
    text = await registry.metrics();
    expect(text).toContain("raftkv_mvcc_backend_pending_bytes 0");
    expect(text).toContain("raftkv_mvcc_durable_applied_index 1");
    expect(text).toContain("raftkv_mvcc_backend_commit_seconds_count 1");
  });
});
