import { apiCases } from "../api/api-suite.js";
import { ConformanceError, UsageError } from "../errors.js";
import { raftCases } from "../raft/raft-suite.js";
import { apiCommand, apiUsage } from "./api-command.js";
import type { CliIo } from "./cli-io.js";
import { checkHistoryCommand, jepsenCommand, jepsenUsage } from "./jepsen-command.js";
import { raftCommand, raftUsage } from "./raft-command.js";

const usage = `raftkv-conformance: a black-box conformance suite for etcd v3 compatible servers

commands:
  api      check the client API (KV, Maintenance, Watch, Lease, Cluster) of running servers
  list     list the API and Raft peer cases with the behaviour each checks
  jepsen   run a linearizability test under process faults on a cluster it starts
  check-history  re-check a history saved by jepsen --history
  raft     check one member's Raft peer protocol (RaftService) against scripted fake peers

${apiUsage}

${jepsenUsage}

${raftUsage}

Exit status: 0 when nothing failed, 1 when a case failed, 2 for usage errors and
servers that could not be reached or started.`;

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code. Never
 * throws: usage and setup errors are printed to `io.err` with exit code 2.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "api":
        return await apiCommand(rest, io);
      case "jepsen":
        return await jepsenCommand(rest, io);
      case "check-history":
        return await checkHistoryCommand(rest, io);
      case "raft":
        return await raftCommand(rest, io);
      case "list":
        for (const c of [...apiCases, ...raftCases]) {
          io.out(`${c.name}\n    ${c.behaviour}\n    (${c.reference})`);
        }
        return 0;
      case undefined:
        throw new UsageError("no command given");
      case "help":
      case "--help":
      case "-h":
        io.out(usage);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`raftkv-conformance: ${error.message}\n\n${usage}`);
      return 2;
    }
    if (error instanceof ConformanceError) {
      io.err(`raftkv-conformance: ${error.code}: ${error.message}`);
      return 2;
    }
    // parseArgs reports unknown options with TypeError and a code.
    if (
      error instanceof TypeError &&
      "code" in error &&
      String(error.code).startsWith("ERR_PARSE_ARGS")
    ) {
      io.err(`raftkv-conformance: ${error.message}\n\n${usage}`);
      return 2;
    }
    io.err(
      `raftkv-conformance: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 2;
  }
}
