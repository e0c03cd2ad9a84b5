// Linearizability checker throughput: how many operations per second it settles on
// histories shaped like a jepsen run's (one key, 5 clients), with and without
// unknown-outcome writes. Run: pnpm --filter raftkv-conformance bench
import { checkOperations } from "./check.js";
import { createRegisterModel } from "./register-model.js";
import { simulateRegisterHistory } from "./testing-history.js";

const model = createRegisterModel();

function measure(label: string, unknownEvery: number, operationsPerClient: number): void {
  const base = simulateRegisterHistory({ seed: 17, clients: 5, operationsPerClient });
  const ops =
    unknownEvery === 0
      ? base
      : base.map((op, i) =>
          op.input.kind !== "read" && i % unknownEvery === 0
            ? { ...op, output: undefined, return: Number.POSITIVE_INFINITY }
            : op,
        );
  const unknown = ops.filter((op) => op.output === undefined).length;
  const runs = 3;
  let best = Number.POSITIVE_INFINITY;
  let verdict = "";
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    verdict = checkOperations(model, ops, { timeoutMs: 120_000 }).verdict;
    best = Math.min(best, performance.now() - started);
  }
  const rate = Math.round(ops.length / (best / 1000));
  console.log(
    `${label.padEnd(34)} ${String(ops.length).padStart(6)} ops ${String(unknown).padStart(4)} unknown  ${best.toFixed(1).padStart(8)} ms  ${String(rate).padStart(9)} ops/s  ${verdict}`,
  );
}

console.log(`node ${process.version}, best of 3`);
measure("linearizable, no unknowns", 0, 2_000);
measure("linearizable, 1 in 50 unknown", 50, 2_000);
measure("linearizable, 1 in 10 unknown", 10, 2_000);
measure("linearizable, no unknowns (large)", 0, 10_000);
