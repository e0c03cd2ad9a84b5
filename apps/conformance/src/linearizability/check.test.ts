import { describe, expect, it } from "vitest";
import { checkOperations } from "./check.js";
import { describeWindow } from "./describe-window.js";
import { checkPartitioned, partitionBy } from "./partitioned-check.js";
import { createRegisterModel } from "./register-model.js";
import {
  type RegisterOperation,
  registerHistory,
  simulateRegisterHistory,
} from "./testing-history.js";

const model = createRegisterModel();
const check = (ops: RegisterOperation[]) => checkOperations(model, ops, { timeoutMs: 30_000 });

describe("linearizability checker: correct histories are accepted", () => {
  it("accepts a sequential history", () => {
    const h = registerHistory()
      .read(1, 0, 1, null)
      .write(1, 2, 3, "a")
      .read(2, 4, 5, "a")
      .cas(2, 6, 7, "a", "b", true)
      .cas(1, 8, 9, "a", "c", false)
      .read(1, 10, 11, "b");
    expect(check(h.build()).verdict).toBe("linearizable");
  });

  it("accepts concurrent writes seen in either order, as long as every later read agrees", () => {
    const h = registerHistory()
      .write(1, 0, 10, "a")
      .write(2, 0, 10, "b")
      .read(3, 11, 12, "a")
      .read(1, 13, 14, "a");
    expect(check(h.build()).verdict).toBe("linearizable");
  });

  it("accepts a read overlapping a write that returns the old value, then one that returns the new", () => {
    const h = registerHistory()
      .write(1, 0, 2, "a")
      .write(1, 3, 10, "b")
      .read(2, 4, 5, "a")
      .read(2, 6, 7, "b");
    expect(check(h.build()).verdict).toBe("linearizable");
  });

  it("accepts an unknown write that takes effect after a later read", () => {
    const h = registerHistory().unknownWrite(1, 0, "a").read(2, 1, 2, null).read(2, 3, 4, "a");
    expect(check(h.build()).verdict).toBe("linearizable");
  });

  it("accepts an unknown write that never takes effect", () => {
    const h = registerHistory().unknownWrite(1, 0, "a").read(2, 5, 6, null).read(2, 7, 8, null);
    expect(check(h.build()).verdict).toBe("linearizable");
  });

  it("accepts an unknown compare-and-set whose effect a later read observes", () => {
    const h = registerHistory()
      .write(1, 0, 1, "a")
      .unknownCas(1, 2, "a", "b")
      .read(2, 10, 11, "b")
      .cas(2, 12, 13, "b", "c", true);
    expect(check(h.build()).verdict).toBe("linearizable");
  });

  it("accepts a create-if-absent compare-and-set (expected null)", () => {
    const h = registerHistory()
      .cas(1, 0, 1, null, "a", true)
      .cas(2, 2, 3, null, "b", false)
      .read(1, 4, 5, "a");
    expect(check(h.build()).verdict).toBe("linearizable");
  });

  it("accepts an empty history", () => {
    expect(check([]).verdict).toBe("linearizable");
  });
});

describe("linearizability checker: broken histories are rejected", () => {
  it("rejects a stale read (a read after an acknowledged write returns the older value)", () => {
    const h = registerHistory().write(1, 0, 1, "a").write(1, 2, 3, "b").read(2, 4, 5, "a");
    const result = check(h.build());
    expect(result.verdict).toBe("not-linearizable");
  });

  it("rejects a lost write (an acknowledged write is not visible to a later read)", () => {
    const h = registerHistory().write(1, 0, 1, "a").read(2, 2, 3, null);
    expect(check(h.build()).verdict).toBe("not-linearizable");
  });

  it("rejects a compare-and-set violation (two CAS from the same value both succeed)", () => {
    const h = registerHistory()
      .write(1, 0, 1, "a")
      .cas(1, 2, 3, "a", "b", true)
      .cas(2, 4, 5, "a", "c", true);
    expect(check(h.build()).verdict).toBe("not-linearizable");
  });

  it("rejects a compare-and-set that fails although the register held the expected value", () => {
    const h = registerHistory().write(1, 0, 1, "a").cas(2, 2, 3, "a", "b", false);
    expect(check(h.build()).verdict).toBe("not-linearizable");
  });

  it("rejects reads that see a value go back (new then old) during one write", () => {
    const h = registerHistory()
      .write(1, 0, 2, "a")
      .write(1, 3, 10, "b")
      .read(2, 4, 5, "b")
      .read(2, 6, 7, "a");
    expect(check(h.build()).verdict).toBe("not-linearizable");
  });

  it("rejects a read of a value before the write of it was invoked", () => {
    const h = registerHistory().read(1, 0, 1, "a").unknownWrite(2, 2, "a");
    expect(check(h.build()).verdict).toBe("not-linearizable");
  });

  it("rejects an unknown write taking effect twice", () => {
    const h = registerHistory()
      .unknownWrite(1, 0, "a")
      .write(2, 1, 2, "b")
      .read(3, 3, 4, "a")
      .read(3, 5, 6, "b");
    expect(check(h.build()).verdict).toBe("not-linearizable");
  });
});

describe("linearizability checker: failing window", () => {
  it("reports only the few operations around a stale read at the end of a long history", () => {
    const h = registerHistory();
    for (let i = 0; i < 200; i++) {
      h.write(i % 3, i * 10, i * 10 + 2, `v${i}`).read(
        (i + 1) % 3,
        i * 10 + 3,
        i * 10 + 4,
        `v${i}`,
      );
    }
    // v199 is current; a read returning v198 after the write of v199 returned is stale.
    h.read(4, 2000, 2001, "v198");
    const result = check(h.build());
    expect(result.verdict).toBe("not-linearizable");
    if (result.verdict !== "not-linearizable") return;
    expect(result.window.minimal).toBe(true);
    expect(result.window.fromAnyState).toBe(true);
    // The read of v199 followed by the stale read of v198 is already impossible.
    expect(result.window.operations.map((op) => op.id)).toEqual([399, 400]);
    const text = describeWindow(model, result.window).join("\n");
    expect(text).toContain('read() -> "v198"');
  });

  it("starts the window at the beginning of the history when the initial state matters", () => {
    const h = registerHistory().read(1, 0, 1, "a").write(1, 2, 3, "b");
    const result = check(h.build());
    expect(result.verdict).toBe("not-linearizable");
    if (result.verdict !== "not-linearizable") return;
    expect(result.window.fromAnyState).toBe(false);
    expect(result.window.operations.map((op) => op.id)).toEqual([0]);
  });

  it("keeps an earlier unknown write in the window, since it may take effect inside it", () => {
    const h = registerHistory()
      .unknownWrite(9, 0, "x")
      .write(1, 10, 11, "a")
      .read(1, 20, 21, "a")
      .write(1, 30, 31, "b")
      .read(2, 40, 41, "a");
    const result = check(h.build());
    expect(result.verdict).toBe("not-linearizable");
    if (result.verdict !== "not-linearizable") return;
    expect(result.window.operations.map((op) => op.id)).toEqual([0, 3, 4]);
  });
});

describe("linearizability checker: budget", () => {
  // n fully concurrent writes followed by a read of a value nobody wrote: proving that no
  // order works means visiting about n * 2^(n-1) configurations.
  const hardHistory = (n: number) => {
    const h = registerHistory();
    for (let i = 0; i < n; i++) h.write(i, i, 1000 + i, `w${i}`);
    h.read(n, 5000, 5001, "never-written");
    return h.build();
  };

  it("settles a small hard history", () => {
    expect(check(hardHistory(8)).verdict).toBe("not-linearizable");
  });

  it('gives up with "unknown", not "linearizable", when the time budget runs out', () => {
    const result = checkOperations(model, hardHistory(40), { timeoutMs: 200 });
    expect(result).toMatchObject({ verdict: "unknown", reason: "timeout" });
  });

  it('gives up with "unknown" when the memo table would exceed its byte limit', () => {
    const result = checkOperations(model, hardHistory(40), {
      timeoutMs: 60_000,
      maxMemoBytes: 64 * 1024,
    });
    expect(result).toMatchObject({ verdict: "unknown", reason: "memory" });
  });
});

describe("linearizability checker: per-key partitions", () => {
  it("accepts when every key is linearizable and names the key that is not", () => {
    const good = registerHistory().write(1, 0, 1, "a").read(2, 2, 3, "a").build();
    const bad = registerHistory().write(1, 0, 1, "a").read(2, 2, 3, null).build();
    const ok = checkPartitioned(
      model,
      new Map([
        ["x", good],
        ["y", good],
      ]),
    );
    expect(ok.verdict).toBe("linearizable");
    const broken = checkPartitioned(
      model,
      new Map([
        ["x", good],
        ["y", bad],
      ]),
    );
    expect(broken.verdict).toBe("not-linearizable");
    expect(broken.parts.get("x")?.verdict).toBe("linearizable");
    expect(broken.parts.get("y")?.verdict).toBe("not-linearizable");
  });

  it("groups items by key in order of first appearance", () => {
    const parts = partitionBy(["b1", "a1", "b2"], (s) => s.slice(0, 1));
    expect([...parts.keys()]).toEqual(["b", "a"]);
    expect(parts.get("b")).toEqual(["b1", "b2"]);
  });
});

describe("linearizability checker: generated histories", () => {
  it("accepts every history produced by an atomic register (seeds 1..40)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const ops = simulateRegisterHistory({ seed, clients: 5, operationsPerClient: 30 });
      const result = check(ops);
      expect(result.verdict, `seed ${seed}`).toBe("linearizable");
    }
  });

  it("rejects those histories once one read returns a value that was never written (seeds 1..40)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const ops = simulateRegisterHistory({ seed, clients: 5, operationsPerClient: 30 });
      const index = ops.findIndex((op) => op.input.kind === "read");
      const read = ops[index]!;
      ops[index] = { ...read, output: { kind: "read", value: "never-written" } };
      expect(check(ops).verdict, `seed ${seed}`).toBe("not-linearizable");
    }
  });

  it("accepts those histories when some writes lose their response (become unknown)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const ops = simulateRegisterHistory({ seed, clients: 5, operationsPerClient: 30 }).map(
        (op, i) =>
          op.input.kind !== "read" && i % 7 === 0
            ? { ...op, output: undefined, return: Infinity }
            : op,
      );
      expect(check(ops).verdict, `seed ${seed}`).toBe("linearizable");
    }
  });
});
