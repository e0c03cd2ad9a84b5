import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DriverError } from "../errors.js";
import type { ClusterDriver, DriverOptions } from "./cluster-driver.js";
import { createProcessCluster, etcdStyleFlags } from "./process-cluster.js";

/** The raftkv server's CLI in this repository, relative to this file once built. */
export const defaultRaftkvCli: string = fileURLToPath(
  new URL("../../../server/dist/cli.js", import.meta.url),
);

/**
 * A cluster of local raftkv server processes, started with etcd's flag names. Default
 * command: this Node binary running apps/server/dist/cli.js; `options.command`
 * replaces it (e.g. `["raftkv"]` for an installed server).
 *
 * @throws DriverError when no command is given and the server is not built.
 */
export function createDriver(options: DriverOptions = {}): ClusterDriver {
  const [command, ...leading] = raftkvCommand(options.command);
  return createProcessCluster({
    ...options,
    commandFor: (member, cluster) => ({
      command,
      args: [...leading, ...etcdStyleFlags(member, cluster)],
    }),
  });
}

/**
 * The command that runs a raftkv member: `command` when given, else this Node binary
 * running apps/server/dist/cli.js.
 *
 * @throws DriverError when no command is given and the server is not built, or the
 * command is empty.
 */
export function raftkvCommand(command?: readonly string[]): [string, ...string[]] {
  let argv = command;
  if (argv === undefined) {
    if (!existsSync(defaultRaftkvCli)) {
      throw new DriverError(
        `raftkv server not found at ${defaultRaftkvCli}; build it (pnpm --filter raftkv build) or pass a command`,
      );
    }
    argv = [process.execPath, defaultRaftkvCli];
  }
  const [first, ...rest] = argv;
  if (first === undefined) throw new DriverError("empty server command");
  return [first, ...rest];
}
