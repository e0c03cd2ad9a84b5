import type { CaseOutcome, CaseResult } from "../harness/conformance-case.js";
import { describeWindow } from "../linearizability/describe-window.js";
import { createRegisterModel } from "../linearizability/register-model.js";
import type { JepsenResult } from "./run-jepsen.js";

const model = createRegisterModel();

function result(name: string, behaviour: string, outcome: CaseOutcome, durationMs = 0): CaseResult {
  return {
    name,
    group: name.slice(0, name.lastIndexOf(".")),
    behaviour,
    reference: "Jepsen etcd analysis (jepsen.io/analyses/etcd-3.4.3); Herlihy & Wing 1990",
    durationMs,
    outcome,
  };
}

const passed: CaseOutcome = { status: "passed" };
const failed = (message: string, details = message): CaseOutcome => ({
  status: "failed",
  message,
  details,
});

/**
 * The verdicts of a Jepsen run as case results (for the summary line and the JUnit
 * file): the workload ran, faults hit every kind of member including the leader, the
 * cluster healed, and each key's history is linearizable. A key whose check ran out of
 * time fails as "unknown": an unproven history is not a pass.
 */
export function jepsenCaseResults(run: JepsenResult, faultsRequested: boolean): CaseResult[] {
  const results: CaseResult[] = [];
  results.push(
    result(
      "jepsen.cluster.start",
      "The cluster starts and elects a leader.",
      run.startError === undefined ? passed : failed(`cluster did not start: ${run.startError}`),
    ),
  );
  if (run.startError !== undefined) return results;

  const writes = run.operations.filter(
    (op) => op.input.kind !== "read" && op.status === "ok",
  ).length;
  const reads = run.operations.filter(
    (op) => op.input.kind === "read" && op.status === "ok",
  ).length;
  results.push(
    result(
      "jepsen.workload",
      "Clients complete reads and writes during the run (a run where nothing succeeds proves nothing).",
      writes > 0 && reads > 0
        ? passed
        : failed(`only ${writes} writes and ${reads} reads succeeded`),
    ),
  );

  if (faultsRequested) {
    const injected = run.nemesis.filter(
      (e) =>
        (e.action === "kill" || e.action === "pause" || e.action === "restart") &&
        e.error === undefined,
    );
    const errors = run.nemesis.filter((e) => e.error !== undefined);
    const leaderHits = injected.filter((e) => e.wasLeader === true).length;
    const problem =
      errors.length > 0
        ? `nemesis errors: ${errors.map((e) => `${e.action} ${e.member}: ${e.error}`).join("; ")}`
        : injected.length === 0
          ? "no fault was injected (run longer)"
          : leaderHits === 0
            ? "no fault hit the leader (run longer)"
            : undefined;
    results.push(
      result(
        "jepsen.nemesis",
        "The nemesis kills, pauses and restarts members, the leader included, and every fault is healed.",
        problem === undefined ? passed : failed(problem),
      ),
    );
  }

  results.push(
    result(
      "jepsen.heal",
      "After the faults stop, every member serves with a leader and every key can be read.",
      run.healError === undefined ? passed : failed(run.healError),
    ),
  );

  for (const key of run.keys) {
    const name = `jepsen.linearizable.${key.slice(key.lastIndexOf("/") + 1)}`;
    const behaviour = `Every read, write and compare-and-set on ${key}, and the final read after healing, fit one sequential order consistent with real time (linearizability); so no acknowledged write is lost.`;
    const verdict = run.check?.parts.get(key);
    if (verdict === undefined) {
      results.push(
        result(name, behaviour, { status: "skipped", reason: "no operations on this key" }),
      );
      continue;
    }
    switch (verdict.verdict) {
      case "linearizable":
        results.push(result(name, behaviour, passed));
        break;
      case "unknown":
        results.push(
          result(
            name,
            behaviour,
            failed(
              `unknown: the checker gave up (${verdict.reason}) on ${verdict.operations} operations; give it more time (--check-timeout) or run shorter`,
            ),
          ),
        );
        break;
      case "not-linearizable": {
        const origin = 0;
        const lines = describeWindow(model, verdict.window, origin);
        results.push(
          result(name, behaviour, failed(`not linearizable; ${lines[0]}`, lines.join("\n"))),
        );
        break;
      }
    }
  }
  return results;
}

/** A human summary of the run: counts, faults, final values, verdicts. */
export function describeJepsenRun(run: JepsenResult): string[] {
  const lines = [
    `seed ${run.seed}: ${run.operations.length} operations (${run.counts.ok} ok, ${run.counts.fail} failed, ${run.counts.unknown} unknown)`,
  ];
  const faults = run.nemesis.filter(
    (e) => e.action === "kill" || e.action === "pause" || e.action === "restart",
  );
  lines.push(
    `faults: ${faults.length} (${faults.filter((e) => e.wasLeader).length} on the leader): ` +
      faults.map((e) => `${e.action} ${e.member}${e.wasLeader ? "*" : ""}`).join(", "),
  );
  for (const [key, value] of run.finalValues) {
    lines.push(`final ${key} = ${value === null ? "(empty)" : JSON.stringify(value)}`);
  }
  if (run.check !== undefined) {
    lines.push(`verdict: ${run.check.verdict} (checked in ${Math.round(run.checkMs)} ms)`);
  }
  return lines;
}
