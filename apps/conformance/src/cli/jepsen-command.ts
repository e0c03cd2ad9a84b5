import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { toJUnitXml } from "../harness/junit.js";
import { formatResultLine, formatSummary, summarize } from "../harness/summary.js";
import { checkRegisterHistory } from "../jepsen/check-register-history.js";
import { describeJepsenRun, jepsenCaseResults } from "../jepsen/jepsen-report.js";
import { loadDriver } from "../jepsen/load-driver.js";
import { allFaults, type FaultKind } from "../jepsen/nemesis.js";
import type { NemesisEvent, RecordedOperation } from "../jepsen/recorded-operation.js";
import { runJepsen } from "../jepsen/run-jepsen.js";
import { describeWindow } from "../linearizability/describe-window.js";
import { createRegisterModel } from "../linearizability/register-model.js";
import type { CliIo } from "./cli-io.js";
import { commandOption, integerOption } from "./options.js";

export const jepsenUsage = `raftkv-conformance jepsen --driver NAME [options]

  --driver NAME             etcd, raftkv, or a module exporting createDriver (required)
  --members N               cluster size (default 3)
  --duration S              seconds of workload (default 60)
  --clients N               concurrent clients (default 5)
  --keys N                  registers the clients share (default 3)
  --seed N                  seed of every random choice (default random, printed)
  --faults LIST             kill,pause,restart (default all) or none
  --op-timeout MS           deadline of one operation (default 2000)
  --check-timeout S         linearizability checker budget (default 120); when it runs
                            out a key is reported unknown, which fails the run
  --max-operations N        stop the workload early at N operations (default 1000000)
  --history FILE            save the history (JSON) for check-history
  --junit FILE              write a JUnit XML report
  --server-command CMD      server executable (and leading arguments)
  --keep-data               keep member data and logs (their directory is printed)

raftkv-conformance check-history FILE [--check-timeout S]

  re-checks a history saved with --history`;

function faultList(value: string | undefined): FaultKind[] {
  if (value === undefined) return [...allFaults];
  if (value === "none") return [];
  const faults = value.split(",").map((s) => s.trim());
  for (const f of faults) {
    if (!(allFaults as readonly string[]).includes(f)) {
      throw new UsageError(
        `unknown fault ${JSON.stringify(f)}; known: ${allFaults.join(", ")}, or none`,
      );
    }
  }
  return faults as FaultKind[];
}

/** `raftkv-conformance jepsen`: returns the exit code (0 all passed, 1 failures). */
export async function jepsenCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      driver: { type: "string" },
      members: { type: "string" },
      duration: { type: "string" },
      clients: { type: "string" },
      keys: { type: "string" },
      seed: { type: "string" },
      faults: { type: "string" },
      "op-timeout": { type: "string" },
      "check-timeout": { type: "string" },
      history: { type: "string" },
      "max-operations": { type: "string" },
      junit: { type: "string" },
      "server-command": { type: "string" },
      "keep-data": { type: "boolean" },
    },
  });
  if (values.driver === undefined) throw new UsageError("--driver is required");
  const faults = faultList(values.faults);
  const command = commandOption(values["server-command"]);
  const createDriver = await loadDriver(values.driver);
  const driver = await createDriver({
    members: integerOption("members", values.members, 3, 1, 9),
    ...(command === undefined ? {} : { command }),
    ...(values["keep-data"] === true ? { keepData: true } : {}),
  });
  const started = new Date();
  const seed =
    values.seed === undefined ? undefined : integerOption("seed", values.seed, 0, 0, 2 ** 32 - 1);
  const run = await runJepsen({
    driver,
    durationMs: integerOption("duration", values.duration, 60, 1, 86_400) * 1000,
    clients: integerOption("clients", values.clients, 5, 1, 1000),
    keys: integerOption("keys", values.keys, 3, 1, 1000),
    ...(seed === undefined ? {} : { seed }),
    faults,
    opTimeoutMs: integerOption("op-timeout", values["op-timeout"], 2000, 1),
    checkTimeoutMs: integerOption("check-timeout", values["check-timeout"], 120, 1) * 1000,
    maxOperations: integerOption("max-operations", values["max-operations"], 1_000_000, 1),
    log: (line) => io.out(line),
  });
  if (values.history !== undefined) {
    await writeFile(
      values.history,
      JSON.stringify({
        seed: run.seed,
        keys: run.keys,
        operations: run.operations,
        nemesis: run.nemesis,
      }),
    );
  }
  for (const line of describeJepsenRun(run)) io.out(line);
  const results = jepsenCaseResults(run, faults.length > 0);
  for (const result of results) io.out(formatResultLine(result));
  for (const result of results) {
    if (result.outcome.status === "failed" && result.outcome.details !== result.outcome.message) {
      io.out(result.outcome.details);
    }
  }
  if (values.junit !== undefined) {
    await writeFile(
      values.junit,
      toJUnitXml(results, {
        suiteName: "raftkv-conformance.jepsen",
        timestamp: started,
        properties: { seed: String(run.seed), driver: values.driver },
      }),
    );
  }
  const summary = summarize(results);
  io.out(formatSummary(summary));
  return summary.failed > 0 ? 1 : 0;
}

interface SavedHistory {
  seed: number;
  keys: string[];
  operations: RecordedOperation[];
  nemesis: NemesisEvent[];
}

/** `raftkv-conformance check-history FILE`: re-checks a saved history. */
export async function checkHistoryCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: { "check-timeout": { type: "string" } },
  });
  const [file] = positionals;
  if (file === undefined || positionals.length !== 1) throw new UsageError("give one history file");
  let saved: SavedHistory;
  try {
    saved = JSON.parse(await readFile(file, "utf8")) as SavedHistory;
  } catch (cause) {
    throw new UsageError(`cannot read history ${file}: ${String(cause)}`, { cause });
  }
  if (!Array.isArray(saved.operations)) throw new UsageError(`${file} holds no operations`);
  const check = checkRegisterHistory(saved.operations, {
    timeoutMs: integerOption("check-timeout", values["check-timeout"], 120, 1) * 1000,
  });
  const model = createRegisterModel();
  for (const [key, verdict] of check.parts) {
    io.out(`${key}: ${verdict.verdict} (${verdict.operations} operations)`);
    if (verdict.verdict === "not-linearizable") {
      for (const line of describeWindow(model, verdict.window)) io.out(line);
    }
  }
  io.out(`verdict: ${check.verdict}`);
  return check.verdict === "linearizable" ? 0 : 1;
}
