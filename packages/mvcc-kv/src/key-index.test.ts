import { describe, expect, it } from "vitest";
import { KeyIndex } from "./key-index.js";

/** Revisions a compaction at `at` removes from `ki`, as "main.sub" strings. */
function compact(ki: KeyIndex, at: number): string[] {
  const removed: string[] = [];
  ki.compact(at, (main, sub) => removed.push(`${main}.${sub}`));
  return removed;
}

function kept(ki: KeyIndex, at: number): string[] {
  const out: string[] = [];
  ki.keep(at, (main, sub) => out.push(`${main}.${sub}`));
  return out;
}

/** put@2, put@4, delete@6, put@8, put@10: two generations, the second live. */
function history(): KeyIndex {
  const ki = new KeyIndex("k");
  ki.put(2, 0);
  ki.put(4, 0);
  ki.tombstone(6, 0);
  ki.put(8, 0);
  ki.put(10, 1);
  return ki;
}

describe("KeyIndex", () => {
  it("finds the revision visible at each point of history, with its generation's create and version", () => {
    const ki = history();
    expect(ki.get(1)).toBeUndefined();
    expect(ki.get(2)).toEqual({ main: 2, sub: 0, created: 2, version: 1 });
    expect(ki.get(5)).toEqual({ main: 4, sub: 0, created: 2, version: 2 });
    expect(ki.get(6)).toBeUndefined();
    expect(ki.get(7)).toBeUndefined();
    expect(ki.get(9)).toEqual({ main: 8, sub: 0, created: 8, version: 1 });
    expect(ki.get(100)).toEqual({ main: 10, sub: 1, created: 8, version: 2 });
  });

  it("refuses to delete a key that does not exist", () => {
    const ki = new KeyIndex("k");
    expect(ki.tombstone(3, 0)).toBe(false);
    ki.put(4, 0);
    expect(ki.tombstone(5, 0)).toBe(true);
    expect(ki.tombstone(6, 0)).toBe(false);
    expect(ki.isLive()).toBe(false);
  });

  it("compacts as etcd: keeps the version visible at the revision, drops ended generations", () => {
    const ki = history();
    expect(compact(ki, 3)).toEqual([]);
    expect(kept(history(), 3)).toEqual(["2.0"]);
    expect(compact(ki, 5)).toEqual(["2.0"]);
    expect(ki.get(5)).toEqual({ main: 4, sub: 0, created: 2, version: 2 });
    // At 6 the first generation ended: all of it goes, tombstone included.
    expect(compact(ki, 6)).toEqual(["4.0", "6.0"]);
    expect(ki.get(9)).toEqual({ main: 8, sub: 0, created: 8, version: 1 });
    expect(compact(ki, 11)).toEqual(["8.0"]);
    expect(ki.get(11)).toEqual({ main: 10, sub: 1, created: 8, version: 2 });
    expect(ki.isEmpty()).toBe(false);
  });

  it("becomes empty when a compaction passes its final delete", () => {
    const ki = new KeyIndex("k");
    ki.put(2, 0);
    ki.tombstone(3, 0);
    expect(kept(ki, 3)).toEqual([]);
    expect(compact(ki, 3)).toEqual(["2.0", "3.0"]);
    expect(ki.isEmpty()).toBe(true);
  });

  it("restores a generation whose older history was compacted", () => {
    const ki = new KeyIndex("k");
    ki.restore(2, 5, 0, 3);
    ki.put(7, 0);
    expect(ki.get(6)).toEqual({ main: 5, sub: 0, created: 2, version: 3 });
    expect(ki.get(7)).toEqual({ main: 7, sub: 0, created: 2, version: 4 });
  });
});
