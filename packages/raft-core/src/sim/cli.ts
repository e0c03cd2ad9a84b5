/**
 * `pnpm --filter @raftkv/raft-core sim [--seeds N] [--seed S] [--nodes 3|5] [--steps K] [--bug NAME]`
 *
 * Runs seeded simulations and prints one line per failure with the command that replays
 * it. Without --seed, runs N seeds starting from a random one (or --from), alternating 3
 * and 5 members unless --nodes is given. Exits with status 1 if any run failed.
 */
import { parseArgs } from "node:util";
import { BUG_NAMES, type BugName } from "./bugs.js";
import { type SimResult, simulate } from "./simulator.js";

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string", default: "100" },
      seed: { type: "string" },
      from: { type: "string" },
      nodes: { type: "string" },
      steps: { type: "string", default: "1000" },
      bug: { type: "string" },
      verbose: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  const steps = Number(values.steps);
  const nodesArg = values.nodes === undefined ? undefined : Number(values.nodes);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer`);
  if (nodesArg !== undefined && (!Number.isInteger(nodesArg) || nodesArg < 1 || nodesArg > 9)) {
    throw new Error(`--nodes must be an integer from 1 to 9`);
  }
  const bug = values.bug as BugName | undefined;
  if (bug !== undefined && !BUG_NAMES.includes(bug)) {
    throw new Error(`--bug must be one of ${BUG_NAMES.join(", ")}`);
  }
  {
    if (values.seed !== undefined) {
      const r = simulate({ seed: Number(values.seed), nodes: nodesArg ?? 3, steps, bug });
      report(r, true);
      return r.ok ? 0 : 1;
    }
    const count = Number(values.seeds);
    const from = values.from === undefined ? (Date.now() * 7919) >>> 0 : Number(values.from);
    let failed = 0;
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      const seed = (from + i) >>> 0;
      const nodes = nodesArg ?? (i % 2 === 0 ? 3 : 5);
      const r = simulate({ seed, nodes, steps, bug });
      if (!r.ok) failed++;
      report(r, values.verbose);
      if ((i + 1) % 100 === 0) {
        out(
          `${i + 1}/${count} runs, ${failed} failed, ${((Date.now() - started) / 1000).toFixed(1)}s`,
        );
      }
    }
    out(`done: ${count} runs from seed ${from}, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  }
}

function report(r: SimResult, verbose: boolean): void {
  const s = r.stats;
  if (!r.ok) {
    out(
      `FAIL seed ${r.seed} (${r.nodes} nodes) at step ${r.failedAtStep}: ${r.violation?.message}`,
    );
    out(`  replay: ${r.replay}`);
  } else if (verbose) {
    out(
      `ok seed ${r.seed} (${r.nodes} nodes): ${s.steps} steps, ${s.elections} elections, ` +
        `${s.applied} applied, ${s.reads} reads, ${s.crashes} crashes, ${s.snapshots} snapshots, ` +
        `${s.messages} messages (${s.dropped} lost)`,
    );
  }
}

process.exitCode = main();
