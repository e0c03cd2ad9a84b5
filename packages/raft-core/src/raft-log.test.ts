import { describe, expect, it } from "vitest";
import { RaftLog } from "./raft-log.js";
import { MemoryStorage } from "./testing/memory-storage.js";
import { type Entry, EntryType } from "./types.js";

const e = (index: number, term: number, size = 1): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array(size),
});

/** A log whose durable part holds entries 1..n of the given terms. */
function logWithTerms(terms: number[]): RaftLog {
  const s = new MemoryStorage();
  s.append(terms.map((t, i) => e(i + 1, t)));
  return new RaftLog(s, 0, 0);
}

describe("RaftLog", () => {
  it("accepts an append only when the previous entry matches", () => {
    const log = logWithTerms([1, 1, 2]);
    expect(log.maybeAppend(3, 1, 0, [e(4, 2)])).toBe(-1);
    expect(log.maybeAppend(3, 2, 0, [e(4, 2)])).toBe(4);
    expect(log.lastIndex()).toBe(4);
  });

  it("keeps matching entries and replaces from the first conflict", () => {
    const log = logWithTerms([1, 1, 2, 2, 2]);
    expect(log.maybeAppend(1, 1, 0, [e(2, 1), e(3, 3)])).toBe(3);
    expect(log.lastIndex()).toBe(3);
    expect(log.term(3)).toBe(3);
    // An old, shorter append must not truncate entries it agrees with.
    expect(log.maybeAppend(1, 1, 0, [e(2, 1)])).toBe(2);
    expect(log.lastIndex()).toBe(3);
  });

  it("commits up to the leader's commit but never past the last new entry", () => {
    const log = logWithTerms([1, 1, 1, 1]);
    log.maybeAppend(1, 1, 10, [e(2, 1)]);
    expect(log.committed).toBe(2);
  });

  it("refuses, changing nothing, an append that would overwrite a committed entry", () => {
    const log = logWithTerms([1, 1, 1]);
    log.commitTo(3);
    expect(() => log.maybeAppend(1, 1, 3, [e(2, 2)])).toThrow(/overwrite committed entry 2/);
    expect(log.term(2)).toBe(1);
  });

  it("finds the fast-backtracking hint: the last index at or below with a term at most the given one", () => {
    const log = logWithTerms([1, 1, 2, 2, 4, 4, 4]);
    expect(log.findConflictByTerm(7, 3)).toEqual({ index: 4, term: 2 });
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 7, term: 4 });
    expect(log.findConflictByTerm(6, 1)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(6, 0)).toEqual({ index: 0, term: 0 });
  });

  it("slices across the durable and unstable parts within maxBytes, at least one entry", () => {
    const s = new MemoryStorage();
    s.append([e(1, 1, 10), e(2, 1, 10), e(3, 1, 10)]);
    const log = new RaftLog(s, 0, 0);
    log.append([e(4, 1, 10), e(5, 1, 10)]);
    expect(log.slice(2, 6, 1000).map((x) => x.index)).toEqual([2, 3, 4, 5]);
    expect(log.slice(2, 6, 35).map((x) => x.index)).toEqual([2, 3, 4]);
    expect(log.slice(4, 6, 5).map((x) => x.index)).toEqual([4]);
    expect(log.slice(3, 6, 15).map((x) => x.index)).toEqual([3]);
  });

  it("is up to date by last term first, then by last index", () => {
    const log = logWithTerms([1, 2, 2]);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(10, 1)).toBe(false);
  });

  it("commits by counting only when the entry has the current term", () => {
    const log = logWithTerms([1, 1, 2]);
    expect(log.maybeCommit(2, 2)).toBe(false);
    expect(log.maybeCommit(3, 2)).toBe(true);
    expect(log.committed).toBe(3);
  });

  it("refuses a commit index beyond the last entry", () => {
    const log = logWithTerms([1]);
    expect(() => log.commitTo(5)).toThrow(/beyond the last index/);
  });

  it("keeps an entry unstable when it changed between the Ready and advance", () => {
    const log = logWithTerms([]);
    log.append([e(1, 1), e(2, 1)]);
    log.append([e(2, 2)]);
    log.stableTo(2, 1);
    expect(log.unstable.entries.map((x) => x.term)).toEqual([1, 2]);
    log.stableTo(2, 2);
    expect(log.unstable.entries.length).toBe(0);
  });
});
