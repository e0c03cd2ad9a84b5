import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { ConformanceCase, Feature } from "./conformance-case.js";
import { check, expectStatus } from "./expect.js";
import { runCases } from "./run-cases.js";

type Ctx = { value: number };
const make = (
  name: string,
  feature: Feature,
  run: (ctx: Ctx) => Promise<void>,
): ConformanceCase<Ctx> => ({
  name,
  feature,
  behaviour: `behaviour of ${name}`,
  reference: "test",
  run,
});

describe("case runner", () => {
  it("reports passes, assertion failures, unexpected errors, skips and timeouts", async () => {
    const disposed: number[] = [];
    const results = await runCases<Ctx>(
      [
        make("a.pass", "kv", async (ctx) => check(ctx.value === 1, "value")),
        make("a.assert", "kv", async () => check(false, "two plus two is not five")),
        make("a.throws", "kv", async () => {
          throw new ConnectError("boom", Code.Internal);
        }),
        make("b.unimplemented-optional", "watch", async () => {
          throw new ConnectError("unknown service", Code.Unimplemented);
        }),
        make("b.unimplemented-required", "kv", async () => {
          throw new ConnectError("unknown service", Code.Unimplemented);
        }),
        make("c.slow", "kv", () => new Promise(() => undefined)),
      ],
      {
        createContext: () => ({ value: 1 }),
        disposeContext: (ctx) => {
          disposed.push(ctx.value);
        },
        caseTimeoutMs: 200,
      },
    );
    expect(results.map((r) => [r.name, r.outcome.status, r.group])).toEqual([
      ["a.pass", "passed", "a"],
      ["a.assert", "failed", "a"],
      ["a.throws", "failed", "a"],
      ["b.unimplemented-optional", "skipped", "b"],
      ["b.unimplemented-required", "failed", "b"],
      ["c.slow", "failed", "c"],
    ]);
    const message = (i: number) => {
      const outcome = results[i]!.outcome;
      return outcome.status === "failed" ? outcome.message : "";
    };
    expect(message(1)).toBe("two plus two is not five");
    expect(message(2)).toBe('unexpected INTERNAL "boom"');
    expect(message(5)).toContain("did not finish within 200 ms");
    expect(disposed).toHaveLength(6);
  });

  it("checks a call's status code and exact message", async () => {
    const failing = Promise.reject(
      new ConnectError("etcdserver: key is not provided", Code.InvalidArgument),
    );
    await expect(
      expectStatus(
        failing,
        { code: Code.InvalidArgument, message: "etcdserver: key is not provided" },
        "put",
      ),
    ).resolves.toBeInstanceOf(ConnectError);
    await expect(
      expectStatus(Promise.resolve({ ok: true }), { code: Code.InvalidArgument }, "put"),
    ).rejects.toThrow("put: expected INVALID_ARGUMENT, but the call succeeded");
    await expect(
      expectStatus(
        Promise.reject(new ConnectError("etcdserver: key not found", Code.InvalidArgument)),
        { code: Code.InvalidArgument, message: "etcdserver: value is provided" },
        "put",
      ),
    ).rejects.toThrow(
      'expected message "etcdserver: value is provided", got "etcdserver: key not found"',
    );
    await expect(
      expectStatus(
        Promise.reject(new ConnectError("x", Code.Unavailable)),
        { code: Code.OutOfRange },
        "range",
      ),
    ).rejects.toThrow('range: expected OUT_OF_RANGE, got UNAVAILABLE "x"');
  });
});
