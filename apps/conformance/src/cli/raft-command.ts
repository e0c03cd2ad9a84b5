import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { endpointToUrl } from "../endpoint.js";
import { UsageError } from "../errors.js";
import { toJUnitXml } from "../harness/junit.js";
import { formatResultLine, formatSummary, summarize } from "../harness/summary.js";
import type { FakeMemberAddress } from "../raft/node-under-test.js";
import { type LaunchMode, runRaftSuite, type TargetMode } from "../raft/raft-suite.js";
import { type OptionalRaftFeature, optionalRaftFeatures } from "../raft/scripted-cluster.js";
import type { CliIo } from "./cli-io.js";
import { commandOption, integerOption } from "./options.js";

export const raftUsage = `raftkv-conformance raft (--driver raftkv | --target HOST:PORT --endpoint HOST:PORT --peers LIST) [options]

  --driver raftkv           start a fresh member for every case, its other members fake
                            peers of the suite on free loopback ports; stopped afterwards
  --members N               cluster size with --driver: the member and N-1 fake peers
                            (default 3)
  --server-command CMD      server executable (and leading arguments) for --driver; it
                            must take etcd's member flags and serve raftkv.raft.v1.RaftService
  --keep-data               keep each case's member data and log (the directory is printed)
  --target HOST:PORT        instead, the peer address of a member you started, whose
                            --initial-cluster names the fake peers of --peers; cases share it
                            and those that restart it are skipped
  --endpoint HOST:PORT      with --target: the member's client address (Maintenance.Status)
  --peers NAME=URL,...      with --target: the fake members; the suite listens on their URLs
  --heartbeat-interval MS   the member's heartbeat interval (default 100)
  --election-timeout MS     the member's election timeout (default 1000)
  --without FEATURES        what the member lacks, of ${optionalRaftFeatures.join(",")};
                            cases that need it are skipped
  --case NAME               run only this case; NAME may end in * (repeatable)
  --junit FILE              write a JUnit XML report
  --case-timeout MS         time limit of one case, member start included (default 90000)`;

/** `raftkv-conformance raft`: returns the exit code (0 nothing failed, 1 failures). */
export async function raftCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      driver: { type: "string" },
      members: { type: "string" },
      "server-command": { type: "string" },
      "keep-data": { type: "boolean" },
      target: { type: "string" },
      endpoint: { type: "string" },
      peers: { type: "string" },
      "heartbeat-interval": { type: "string" },
      "election-timeout": { type: "string" },
      without: { type: "string" },
      case: { type: "string", multiple: true },
      junit: { type: "string" },
      "case-timeout": { type: "string" },
    },
  });
  if ((values.driver === undefined) === (values.target === undefined)) {
    throw new UsageError("give either --driver raftkv or --target");
  }
  let mode: LaunchMode | TargetMode;
  if (values.driver !== undefined) {
    if (values.driver !== "raftkv") {
      throw new UsageError(
        `the raft command starts raftkv-compatible servers only (--driver raftkv, --server-command for another one), got ${JSON.stringify(values.driver)}`,
      );
    }
    for (const option of ["endpoint", "peers"] as const) {
      if (values[option] !== undefined) throw new UsageError(`--${option} goes with --target`);
    }
    const command = commandOption(values["server-command"]);
    let baseDir: string | undefined;
    if (values["keep-data"] === true) {
      baseDir = await mkdtemp(join(tmpdir(), "raftkv-conformance-raft-"));
      io.out(`member data and logs are kept in ${baseDir}`);
    }
    mode = {
      kind: "launch",
      members: integerOption("members", values.members, 3, 3, 7),
      ...(command === undefined ? {} : { command }),
      ...(baseDir === undefined ? {} : { baseDir, keepData: true }),
    };
  } else {
    for (const option of ["members", "server-command", "keep-data"] as const) {
      if (values[option] !== undefined) throw new UsageError(`--${option} goes with --driver`);
    }
    if (values.endpoint === undefined) throw new UsageError("--target needs --endpoint");
    if (values.peers === undefined) throw new UsageError("--target needs --peers");
    endpointToUrl(values.endpoint);
    mode = {
      kind: "target",
      peerUrl: endpointToUrl(values.target!),
      clientEndpoint: values.endpoint,
      peers: peerList(values.peers),
    };
  }
  const started = new Date();
  const results = await runRaftSuite({
    mode,
    cases: values.case ?? [],
    without: featureList(values.without),
    heartbeatIntervalMs: integerOption("heartbeat-interval", values["heartbeat-interval"], 100, 1),
    electionTimeoutMs: integerOption("election-timeout", values["election-timeout"], 1_000, 2),
    caseTimeoutMs: integerOption("case-timeout", values["case-timeout"], 90_000, 1),
    onResult: (result) => io.out(formatResultLine(result)),
  });
  if (values.junit !== undefined) {
    await writeFile(
      values.junit,
      toJUnitXml(results, {
        suiteName: "raftkv-conformance.raft",
        timestamp: started,
        properties:
          mode.kind === "launch"
            ? { driver: "raftkv", members: String(mode.members) }
            : { target: mode.peerUrl, endpoint: mode.clientEndpoint },
      }),
    );
  }
  const summary = summarize(results);
  io.out(formatSummary(summary));
  return summary.failed > 0 ? 1 : 0;
}

/**
 * `p1=http://127.0.0.1:23801,p2=127.0.0.1:23802`.
 *
 * @throws UsageError for an entry without a name or with a repeated name.
 * @throws InvalidEndpointError for a malformed URL.
 */
function peerList(value: string): FakeMemberAddress[] {
  const peers = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((entry) => {
      const eq = entry.indexOf("=");
      if (eq <= 0) throw new UsageError(`--peers entry ${JSON.stringify(entry)} is not NAME=URL`);
      return { name: entry.slice(0, eq), url: endpointToUrl(entry.slice(eq + 1)) };
    });
  if (new Set(peers.map((p) => p.name)).size !== peers.length) {
    throw new UsageError("--peers names a member twice");
  }
  return peers;
}

/** @throws UsageError for an unknown feature. */
function featureList(value: string | undefined): OptionalRaftFeature[] {
  if (value === undefined) return [];
  const features = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const feature of features) {
    if (!(optionalRaftFeatures as readonly string[]).includes(feature)) {
      throw new UsageError(
        `unknown feature ${JSON.stringify(feature)} in --without; known: ${optionalRaftFeatures.join(", ")}`,
      );
    }
  }
  return features as OptionalRaftFeature[];
}
