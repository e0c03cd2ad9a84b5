import { describe, expect, it } from "vitest";
import { JointConfig, MajorityConfig, VoteResult } from "./quorum.js";

const acked = (m: Record<number, number>) => (id: number) => m[id];
const votes = (m: Record<number, boolean>) => (id: number) => m[id];

describe("MajorityConfig", () => {
  it("commits the highest index a majority has acknowledged", () => {
    const c = new MajorityConfig([1, 2, 3]);
    expect(c.committedIndex(acked({ 1: 10, 2: 7, 3: 3 }))).toBe(7);
    expect(c.committedIndex(acked({ 1: 10 }))).toBe(0);
    const five = new MajorityConfig([1, 2, 3, 4, 5]);
    expect(five.committedIndex(acked({ 1: 9, 2: 8, 3: 7, 4: 1, 5: 1 }))).toBe(7);
  });

  it("an even-sized configuration needs more than half", () => {
    const c = new MajorityConfig([1, 2, 3, 4]);
    expect(c.committedIndex(acked({ 1: 5, 2: 5, 3: 1, 4: 1 }))).toBe(1);
    expect(c.voteResult(votes({ 1: true, 2: true, 3: false, 4: false }))).toBe(VoteResult.Lost);
  });

  it("a vote is won by a majority of grants, lost once a majority cannot be reached", () => {
    const c = new MajorityConfig([1, 2, 3]);
    expect(c.voteResult(votes({ 1: true }))).toBe(VoteResult.Pending);
    expect(c.voteResult(votes({ 1: true, 2: true }))).toBe(VoteResult.Won);
    expect(c.voteResult(votes({ 1: true, 2: false }))).toBe(VoteResult.Pending);
    expect(c.voteResult(votes({ 1: true, 2: false, 3: false }))).toBe(VoteResult.Lost);
  });

  it("an empty configuration agrees to everything", () => {
    const c = new MajorityConfig([]);
    expect(c.committedIndex(acked({}))).toBe(Number.POSITIVE_INFINITY);
    expect(c.voteResult(votes({}))).toBe(VoteResult.Won);
  });
});

describe("JointConfig", () => {
  it("commits only what both halves have committed", () => {
    const c = new JointConfig([1, 2, 3], [3, 4, 5]);
    expect(c.committedIndex(acked({ 1: 9, 2: 9, 3: 4, 4: 4, 5: 1 }))).toBe(4);
    expect(new JointConfig([1, 2, 3]).committedIndex(acked({ 1: 9, 2: 9 }))).toBe(9);
  });

  it("wins a vote only with a majority in both halves", () => {
    const c = new JointConfig([1, 2, 3], [4, 5, 6]);
    expect(c.voteResult(votes({ 1: true, 2: true }))).toBe(VoteResult.Pending);
    expect(c.voteResult(votes({ 1: true, 2: true, 4: true, 5: true }))).toBe(VoteResult.Won);
    expect(c.voteResult(votes({ 1: true, 2: true, 4: false, 5: false }))).toBe(VoteResult.Lost);
  });

  it("lists every voter once", () => {
    expect(new JointConfig([3, 1, 2], [2, 4]).ids()).toEqual([1, 2, 3, 4]);
  });
});
