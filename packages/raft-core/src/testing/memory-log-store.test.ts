import { describe, expect, it } from "vitest";
import { EntryType } from "../types.js";
import { type LogStoreHarness, logStoreSuite } from "./log-store-suite.js";
import { MemoryLogStore } from "./memory-log-store.js";

async function harness(): Promise<LogStoreHarness> {
  let current = new MemoryLogStore();
  return {
    store: current,
    async reopen() {
      await current.close();
      current = current.crash();
      return current;
    },
    async cleanup() {
      await current.close();
    },
  };
}

describe("MemoryLogStore passes the shared LogStore suite", () => {
  for (const check of logStoreSuite(harness)) it(check.name, check.run);
});

const e = (index: number, term: number) => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array([index]),
});

describe("MemoryLogStore durability", () => {
  it("a crash keeps synced saves and loses unsynced ones", async () => {
    const store = new MemoryLogStore();
    await store.save({ term: 1, vote: 1, commit: 0 }, [e(1, 1), e(2, 1)], { sync: true });
    await store.save({ term: 1, vote: 1, commit: 2 }, [e(3, 1)], { sync: false });
    expect(store.lastIndex()).toBe(3);
    const after = store.crash();
    expect(after.lastIndex()).toBe(2);
    expect((await after.load()).hardState).toEqual({ term: 1, vote: 1, commit: 0 });
  });

  it("an unsynced overwrite is undone by a crash", async () => {
    const store = new MemoryLogStore();
    await store.save(undefined, [e(1, 1), e(2, 1), e(3, 1)], { sync: true });
    await store.save(undefined, [e(2, 2)], { sync: false });
    expect(store.term(2)).toBe(2);
    const after = store.crash();
    expect([after.lastIndex(), after.term(2), after.term(3)]).toEqual([3, 1, 1]);
  });

  it("a synced save makes earlier unsynced ones durable too", async () => {
    const store = new MemoryLogStore();
    await store.save({ term: 1, vote: 0, commit: 0 }, [e(1, 1)], { sync: false });
    await store.save({ term: 1, vote: 0, commit: 1 }, [], { sync: true });
    const after = store.crash();
    expect(after.lastIndex()).toBe(1);
    expect((await after.load()).hardState.commit).toBe(1);
  });

  it("injected failures reject saves with a typed error and change nothing", async () => {
    const store = new MemoryLogStore();
    store.failNextSaves(1);
    await expect(store.save(undefined, [e(1, 1)], { sync: true })).rejects.toMatchObject({
      code: "STORAGE",
    });
    expect(store.lastIndex()).toBe(0);
    await store.save(undefined, [e(1, 1)], { sync: true });
    expect(store.lastIndex()).toBe(1);
  });

  it("a closed store rejects every operation with STOPPED", async () => {
    const store = new MemoryLogStore();
    await store.close();
    await expect(store.load()).rejects.toMatchObject({ code: "STOPPED" });
    await expect(store.save(undefined, [], { sync: true })).rejects.toMatchObject({
      code: "STOPPED",
    });
  });
});
