import { describe, expect, it } from "vitest";
import { Progress, ProgressState } from "./progress.js";

const fresh = (next: number) => new Progress(next, 4, 0, false);

describe("Progress", () => {
  it("in Probe state sends one append and pauses until the member answers", () => {
    const p = fresh(5);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(3, 30, 7);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(5);
    p.maybeUpdate(7);
    expect(p.isPaused()).toBe(false);
    expect([p.match, p.next]).toEqual([7, 8]);
  });

  it("in Replicate state advances next optimistically until the window is full", () => {
    const p = fresh(1);
    p.becomeReplicate();
    for (let i = 1; i <= 4; i++) p.sentEntries(1, 1, i);
    expect(p.next).toBe(5);
    expect(p.isPaused()).toBe(true);
    p.maybeUpdate(2);
    p.inflights.freeLE(2);
    expect(p.isPaused()).toBe(false);
  });

  it("ignores a stale rejection and retries from the hint on a fresh one", () => {
    const p = fresh(11);
    p.match = 3;
    expect(p.maybeDecrTo(7, 5)).toBe(false); // probed at 10, not 7
    expect(p.maybeDecrTo(10, 5)).toBe(true);
    expect(p.next).toBe(6);
    expect(p.maybeDecrTo(5, 0)).toBe(true);
    expect(p.next).toBe(4); // never below match + 1
  });

  it("in Replicate state falls back to match + 1 on a rejection above match", () => {
    const p = fresh(1);
    p.match = 5;
    p.becomeReplicate();
    p.sentEntries(5, 5, 10);
    expect(p.maybeDecrTo(4, 0)).toBe(false);
    expect(p.maybeDecrTo(8, 0)).toBe(true);
    expect(p.next).toBe(6);
  });

  it("after a snapshot, probes from past the snapshot", () => {
    const p = fresh(3);
    p.becomeSnapshot(20);
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect(p.state).toBe(ProgressState.Probe);
    expect(p.next).toBe(21);
  });
});
