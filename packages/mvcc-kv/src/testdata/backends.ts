/**
 * The backends every store-level test runs against: in memory, and RocksDB through
 * @raftkv/wal-rocksdb (a devDependency: tests only, never shipped). Adding an
 * implementation is one entry here. Test-only: not part of the build.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRocksStorage, type RocksStorage } from "@raftkv/wal-rocksdb";
import type { MvccBackend } from "../backend.js";
import { createMemoryBackend } from "../memory-backend.js";
import type { BackendFactory } from "./backend-suite.js";

export const memoryBackendFactory: BackendFactory = {
  name: "memory",
  create: async () => createMemoryBackend(),
  reopen: async (backend: MvccBackend) => backend,
};

/** One temporary root for every RocksDB data dir of this test process, removed at exit. */
let rocksRoot: string | undefined;
function rocksDir(): string {
  if (rocksRoot === undefined) {
    const root = mkdtempSync(join(tmpdir(), "raftkv-mvcc-rocks-"));
    rocksRoot = root;
    process.once("exit", () => rmSync(root, { recursive: true, force: true }));
  }
  return mkdtempSync(join(rocksRoot, "member-"));
}

const storages = new WeakMap<MvccBackend, RocksStorage>();

async function openRocks(dir: string): Promise<MvccBackend> {
  const storage = await openRocksStorage({ dir, clusterId: "mvcc-kv-tests", memberId: 1 });
  // wal-rocksdb's backend mirrors MvccBackend structurally; this assignment is the
  // compile-time check that it still does.
  const inner: MvccBackend = storage.backend;
  // Closing the backend closes the whole data dir (log store included), so that the
  // same dir can be opened again.
  const backend: MvccBackend = {
    appliedIndex: () => inner.appliedIndex(),
    get: (key) => inner.get(key),
    range: (options) => inner.range(options),
    write: (batch) => inner.write(batch),
    snapshot: () => inner.snapshot(),
    close: () => storage.close(),
  };
  storages.set(backend, storage);
  return backend;
}

export const rocksBackendFactory: BackendFactory = {
  name: "rocksdb",
  create: () => openRocks(rocksDir()),
  reopen: async (backend: MvccBackend) => {
    const storage = storages.get(backend);
    if (storage === undefined) throw new Error("not a backend of this factory");
    await backend.close();
    return openRocks(storage.dir);
  },
};

export const backendFactories: BackendFactory[] = [memoryBackendFactory, rocksBackendFactory];
