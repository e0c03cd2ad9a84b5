import { describe, expect, it } from "vitest";
import type { RegisterInput, RegisterOutput } from "../linearizability/register-model.js";
import { checkRegisterHistory } from "./check-register-history.js";
import { createDriver } from "./etcd-driver.js";
import { jepsenCaseResults } from "./jepsen-report.js";
import type { RecordedOperation } from "./recorded-operation.js";
import { type JepsenResult, runJepsen } from "./run-jepsen.js";

// The short CI form of `raftkv-conformance jepsen` against etcd 3.4; the 60 s run is
// `pnpm --filter raftkv-conformance jepsen:long`.
describe("jepsen against etcd 3.4 (short run with faults)", () => {
  let run: JepsenResult;

  it("finds every key linearizable under kills, pauses and restarts", {
    timeout: 240_000,
  }, async () => {
    run = await runJepsen({
      driver: createDriver({ members: 3 }),
      durationMs: 15_000,
      clients: 5,
      keys: 3,
      seed: 20_241,
      checkTimeoutMs: 60_000,
    });
    const results = jepsenCaseResults(run, true);
    const problems = results
      .filter((r) => r.outcome.status !== "passed")
      .map(
        (r) => `${r.name}: ${r.outcome.status === "failed" ? r.outcome.details : r.outcome.status}`,
      );
    expect(problems, `seed ${run.seed}`).toEqual([]);
    expect(run.check?.verdict).toBe("linearizable");
    expect(run.nemesis.some((e) => e.wasLeader === true)).toBe(true);
    expect(run.counts.ok).toBeGreaterThan(100);
  });

  // The real history above, with one operation appended after the final reads: each is a
  // violation of the kind the run must catch, and the checker must reject it.
  const appended = (
    input: RegisterInput,
    output: RegisterOutput,
    key: string,
  ): RecordedOperation[] => {
    const end = Math.max(...run.operations.map((op) => op.return ?? op.call));
    return [
      ...run.operations,
      {
        id: 1e9,
        clientId: 99,
        key,
        endpoint: "test",
        input,
        status: "ok",
        output,
        call: end + 1,
        return: end + 2,
      },
    ];
  };
  const finalOf = (key: string) => run.finalValues.get(key) ?? null;
  const olderValueOf = (key: string): string => {
    const writes = run.operations.filter(
      (op) =>
        op.key === key &&
        op.status === "ok" &&
        op.input.kind === "write" &&
        op.input.value !== finalOf(key),
    );
    const write = writes[0];
    if (write === undefined || write.input.kind !== "write")
      throw new Error(`no older write on ${key}`);
    return write.input.value;
  };

  it("rejects the history with a stale read appended (an older value read after the final read)", () => {
    const key = run.keys[0]!;
    const check = checkRegisterHistory(
      appended({ kind: "read" }, { kind: "read", value: olderValueOf(key) }, key),
    );
    expect(check.parts.get(key)?.verdict).toBe("not-linearizable");
    expect(check.verdict).toBe("not-linearizable");
  });

  it("rejects the history with a lost write (the register reads empty after acknowledged writes)", () => {
    const key = run.keys[1]!;
    const check = checkRegisterHistory(
      appended({ kind: "read" }, { kind: "read", value: null }, key),
    );
    expect(check.parts.get(key)?.verdict).toBe("not-linearizable");
  });

  it("rejects the history with a CAS violation (succeeding from a value the register no longer holds)", () => {
    const key = run.keys[2]!;
    const check = checkRegisterHistory(
      appended(
        { kind: "cas", expected: olderValueOf(key), value: "x" },
        { kind: "cas", succeeded: true },
        key,
      ),
    );
    const verdict = check.parts.get(key);
    expect(verdict?.verdict).toBe("not-linearizable");
    if (verdict?.verdict === "not-linearizable") {
      expect(verdict.window.operations.some((op) => op.id === 1e9)).toBe(true);
      expect(verdict.window.operations.length).toBeLessThan(20);
    }
  });
});

describe("jepsen history bound", () => {
  it("stops the workload early when the history reaches maxOperations", {
    timeout: 120_000,
  }, async () => {
    const clients = 3;
    const keys = 2;
    const run = await runJepsen({
      driver: createDriver({ members: 1 }),
      durationMs: 600_000,
      clients,
      keys,
      faults: [],
      maxOperations: 50,
      seed: 5,
    });
    // Clients finish the operation in flight; then one final read per key.
    expect(run.operations.length).toBeGreaterThanOrEqual(50 + keys);
    expect(run.operations.length).toBeLessThanOrEqual(50 + clients + keys);
    expect(run.check?.verdict).toBe("linearizable");
  });
});
