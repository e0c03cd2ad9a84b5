import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry } from "@raftkv/raft-core";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageFailedError } from "./errors.js";
import { openRocksStorage, type RocksStorage } from "./rocks-storage.js";

/**
 * Disk faults on a real file system: a small tmpfs that fills up, and one remounted
 * read-only under a running store. Needs permission to mount (root here and in CI);
 * without it the tests are skipped and say so, since chmod cannot make a directory
 * unwritable for root and nothing else fails a write honestly.
 */
let mountError: string | undefined;

function sh(...args: string[]): void {
  execFileSync(args[0] as string, args.slice(1), { stdio: "pipe" });
}

beforeAll(async () => {
  const probe = await mkdtemp(join(tmpdir(), "wal-rocksdb-fault-probe-"));
  try {
    sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe);
    sh("umount", probe);
  } catch (err) {
    mountError = (err as Error).message.split("\n")[0];
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
});

/** Mount points still mounted; afterAll unmounts them even if a test timed out mid-way. */
const mounted = new Set<string>();

async function unmount(mountPoint: string): Promise<void> {
  sh("umount", "-l", mountPoint);
  mounted.delete(mountPoint);
  await rm(mountPoint, { recursive: true, force: true });
}

afterAll(async () => {
  for (const mountPoint of [...mounted]) await unmount(mountPoint);
});

/** Runs `fn` with a fresh tmpfs of `size` mounted; unmounts it (lazily, if busy) afterwards. */
async function withTmpfs(size: string, fn: (mountPoint: string) => Promise<void>): Promise<void> {
  const mountPoint = await mkdtemp(join(tmpdir(), "wal-rocksdb-fault-"));
  sh("mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mountPoint);
  mounted.add(mountPoint);
  try {
    await fn(mountPoint);
  } finally {
    await unmount(mountPoint);
  }
}

/** Small raft log segments, so that a few MiB of tmpfs hold several. */
const SEGMENT_BYTES = 256 * 1024;

const entry = (index: number): Entry => ({
  index,
  term: 1,
  type: 0,
  data: new Uint8Array(4096).fill(index % 251),
});

/** Appends one synced entry at a time until a save fails; returns the last acknowledged index. */
async function appendUntilFailure(storage: RocksStorage, limit: number) {
  let acked = storage.logStore.lastIndex();
  for (let i = acked + 1; i <= limit; i++) {
    try {
      await storage.logStore.save({ term: 1, vote: 1, commit: acked }, [entry(i)], { sync: true });
      acked = i;
    } catch (err) {
      return { acked, error: err };
    }
  }
  return { acked, error: undefined };
}

async function expectAllPresent(dir: string, acked: number) {
  const storage = await openRocksStorage({
    dir,
    clusterId: "fault",
    memberId: 1,
    walSegmentBytes: SEGMENT_BYTES,
  });
  try {
    await storage.logStore.load();
    expect(storage.logStore.lastIndex()).toBeGreaterThanOrEqual(acked);
    const entries = storage.logStore.entries(1, acked + 1, Infinity);
    expect(entries).toHaveLength(acked);
    for (const e of entries) expect(e.data).toEqual(entry(e.index).data);
  } finally {
    await storage.close();
  }
}

describe("disk faults", () => {
  it("a full disk fails the write with StorageFailedError, stops writes and loses nothing acknowledged", async (ctx) => {
    if (mountError !== undefined) return ctx.skip(`cannot mount a tmpfs here: ${mountError}`);
    await withTmpfs("3m", async (mountPoint) => {
      const dir = join(mountPoint, "full");
      const registry = new Registry();
      const storage = await openRocksStorage({
        dir,
        clusterId: "fault",
        memberId: 1,
        registry,
        walSegmentBytes: SEGMENT_BYTES,
      });
      let acked: number;
      try {
        await storage.logStore.load();
        const result = await appendUntilFailure(storage, 10_000);
        acked = result.acked;
        expect(result.error).toBeInstanceOf(StorageFailedError);
        expect((result.error as Error).message).toMatch(/no space left on device/i);
        expect(acked).toBeGreaterThan(10);
        expect(await registry.metrics()).toContain('wal_storage_failures_total{member="1"} 1');
        // Once a write failed, the store refuses every later one, even a small one.
        await expect(
          storage.logStore.save({ term: 1, vote: 1, commit: 0 }, [], { sync: true }),
        ).rejects.toBe(result.error);
        await expect(
          storage.backend.write({
            operations: [{ type: "put", key: Uint8Array.of(1), value: Uint8Array.of(2) }],
          }),
        ).rejects.toBe(result.error);
      } finally {
        await storage.close();
      }
      sh("mount", "-o", "remount,size=64m", mountPoint);
      await expectAllPresent(dir, acked);
    });
  });

  it("an unwritable data dir is refused at open with StorageFailedError, its data intact", async (ctx) => {
    if (mountError !== undefined) return ctx.skip(`cannot mount a tmpfs here: ${mountError}`);
    // A mounted file system cannot be remounted read-only while RocksDB holds files open
    // for writing ("busy"), so the read-only case is tested at open; a write failing
    // mid-run is covered by the full-disk test above.
    await withTmpfs("64m", async (mountPoint) => {
      const dir = join(mountPoint, "readonly");
      const storage = await openRocksStorage({
        dir,
        clusterId: "fault",
        memberId: 1,
        walSegmentBytes: SEGMENT_BYTES,
      });
      let acked = 0;
      try {
        await storage.logStore.load();
        const result = await appendUntilFailure(storage, 20);
        expect(result.error).toBeUndefined();
        acked = result.acked;
      } finally {
        await storage.close();
      }
      sh("mount", "-o", "remount,ro", mountPoint);
      try {
        const err = await openRocksStorage({ dir, clusterId: "fault", memberId: 1 }).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StorageFailedError);
        expect((err as Error).message).toMatch(/Read-only file system/);
      } finally {
        sh("mount", "-o", "remount,rw", mountPoint);
      }
      await expectAllPresent(dir, acked);
    });
  });
});
