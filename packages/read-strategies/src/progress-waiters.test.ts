import { describe, expect, it } from "vitest";
import { ReadAbortedError, ReadBarrierClosedError, SessionReadTimeoutError } from "./errors.js";
import { ProgressWaiters } from "./progress-waiters.js";

describe("ProgressWaiters", () => {
  it("resolves at once when the target is already reached", async () => {
    await new ProgressWaiters(5).wait(5, 1_000);
  });

  it("settles exactly the waiters an advance satisfies", async () => {
    const w = new ProgressWaiters(0);
    const settled: number[] = [];
    for (const t of [3, 1, 2, 9]) {
      w.wait(t, 60_000).then(
        () => settled.push(t),
        () => {},
      );
    }
    w.advance(2);
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toEqual([1, 2]);
    w.advance(1); // going back is ignored
    w.advance(3);
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toEqual([1, 2, 3]);
    w.close();
  });

  it("gives up after the timeout with SessionReadTimeoutError naming both positions", async () => {
    const w = new ProgressWaiters(4);
    const error = await w.wait(10, 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionReadTimeoutError);
    expect(error).toMatchObject({ wanted: 10, reached: 4, code: "SESSION_READ_TIMEOUT" });
  });

  it("rejects with ReadAbortedError when the signal fires, and on close", async () => {
    const w = new ProgressWaiters(0);
    const ac = new AbortController();
    const aborted = w.wait(1, 60_000, ac.signal);
    ac.abort(new Error("gone"));
    await expect(aborted).rejects.toBeInstanceOf(ReadAbortedError);
    const closed = w.wait(1, 60_000);
    w.close();
    await expect(closed).rejects.toBeInstanceOf(ReadBarrierClosedError);
  });
});
