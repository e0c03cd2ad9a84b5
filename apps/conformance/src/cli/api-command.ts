import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { runApiSuite } from "../api/api-suite.js";
import { parseEndpointList } from "../endpoint.js";
import { UsageError } from "../errors.js";
import { toJUnitXml } from "../harness/junit.js";
import { formatResultLine, formatSummary, summarize } from "../harness/summary.js";
import { loadDriver } from "../jepsen/load-driver.js";
import type { CliIo } from "./cli-io.js";
import { commandOption, featureList, integerOption } from "./options.js";

export const apiUsage = `raftkv-conformance api (--endpoints LIST | --driver NAME) [options]

  --endpoints LIST          running members to test (host:port,...); the first takes
                            most calls
  --driver NAME             instead, start a fresh cluster on free loopback ports:
                            etcd, raftkv, or a driver module path; stopped afterwards
  --members N               cluster size with --driver (default 1)
  --server-command CMD      server executable (and leading arguments) for --driver
  --case NAME               run only this case; NAME may end in * (repeatable)
  --junit FILE              write a JUnit XML report
  --require FEATURES        fail, not skip, cases of these features when the server
                            answers UNIMPLEMENTED (default kv,maintenance)
  --max-request-bytes N     the server's --max-request-bytes (default 1572864)
  --max-txn-ops N           the server's --max-txn-ops (default 128)
  --case-timeout MS         time limit of one case (default 60000)
  --key-prefix PREFIX       prefix of every key written (default /raftkv-conformance/<random>/)`;

/** `raftkv-conformance api`: returns the exit code (0 all passed, 1 failures). */
export async function apiCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      endpoints: { type: "string" },
      case: { type: "string", multiple: true },
      junit: { type: "string" },
      require: { type: "string" },
      "max-request-bytes": { type: "string" },
      "max-txn-ops": { type: "string" },
      "case-timeout": { type: "string" },
      "key-prefix": { type: "string" },
      driver: { type: "string" },
      members: { type: "string" },
      "server-command": { type: "string" },
    },
  });
  if ((values.endpoints === undefined) === (values.driver === undefined)) {
    throw new UsageError("give either --endpoints or --driver");
  }
  if (values.driver === undefined) {
    return runAgainst(parseEndpointList(values.endpoints!), values, io);
  }
  const command = commandOption(values["server-command"]);
  const driver = await (await loadDriver(values.driver))({
    members: integerOption("members", values.members, 1, 1, 9),
    ...(command === undefined ? {} : { command }),
  });
  await driver.start();
  try {
    return await runAgainst(driver.endpoints(), values, io);
  } finally {
    await driver.stop();
  }
}

type ApiValues = {
  case?: string[] | undefined;
  junit?: string | undefined;
  require?: string | undefined;
  "max-request-bytes"?: string | undefined;
  "max-txn-ops"?: string | undefined;
  "case-timeout"?: string | undefined;
  "key-prefix"?: string | undefined;
};

async function runAgainst(endpoints: string[], values: ApiValues, io: CliIo): Promise<number> {
  const requiredFeatures = featureList(values.require);
  const started = new Date();
  const results = await runApiSuite({
    endpoints,
    cases: values.case ?? [],
    ...(requiredFeatures === undefined ? {} : { requiredFeatures }),
    limits: {
      maxRequestBytes: integerOption(
        "max-request-bytes",
        values["max-request-bytes"],
        1.5 * 1024 * 1024,
        1024,
      ),
      maxTxnOps: integerOption("max-txn-ops", values["max-txn-ops"], 128, 1, 100_000),
    },
    caseTimeoutMs: integerOption("case-timeout", values["case-timeout"], 60_000, 1),
    ...(values["key-prefix"] === undefined ? {} : { keyPrefix: values["key-prefix"] }),
    onResult: (result) => io.out(formatResultLine(result)),
  });
  if (values.junit !== undefined) {
    await writeFile(
      values.junit,
      toJUnitXml(results, {
        suiteName: "raftkv-conformance.api",
        timestamp: started,
        properties: { endpoints: endpoints.join(",") },
      }),
    );
  }
  const summary = summarize(results);
  io.out(formatSummary(summary));
  return summary.failed > 0 ? 1 : 0;
}
