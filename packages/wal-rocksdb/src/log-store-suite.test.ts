import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LogStoreHarness, logStoreSuite } from "@raftkv/raft-core/testing";
import { describe, it } from "vitest";
import { openRocksStorage, type RocksStorage } from "./rocks-storage.js";

async function harness(): Promise<LogStoreHarness> {
  const dir = await mkdtemp(join(tmpdir(), "wal-rocksdb-suite-"));
  const open = () => openRocksStorage({ dir, clusterId: "suite", memberId: 1 });
  let storage: RocksStorage = await open();
  return {
    store: storage.logStore,
    async reopen() {
      await storage.close();
      storage = await open();
      return storage.logStore;
    },
    async cleanup() {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe("WalLogStore passes raft-core's shared LogStore suite", () => {
  for (const check of logStoreSuite(harness)) it(check.name, check.run);
});
