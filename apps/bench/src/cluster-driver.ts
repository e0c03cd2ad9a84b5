import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where and how one member of a local cluster runs; flag names are etcd's. */
export interface MemberPlan {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  /** "name1=peerUrl1,name2=peerUrl2,…" */
  initialCluster: string;
  clusterToken: string;
  heartbeatMs: number;
  electionMs: number;
}

/** The command that starts one member. */
export interface MemberCommand {
  file: string;
  args: string[];
}

/**
 * A server implementation the benchmark can start as a cluster. Both etcd and raftkv take
 * etcd's flags, so a driver differs only in the executable and its extra flags.
 */
export interface ClusterDriver {
  /** Short name used in reports: "etcd", "raftkv". */
  readonly name: string;
  /** Why this server cannot run here (binary missing, not built), or null. */
  unavailableReason(): string | null;
  /** Version text for reports. */
  version(): string;
  command(member: MemberPlan): MemberCommand;
}

/** The etcd flags every member gets, in the order etcd documents them. */
export function memberFlags(member: MemberPlan): string[] {
  return [
    "--name",
    member.name,
    "--data-dir",
    member.dataDir,
    "--listen-client-urls",
    member.clientUrl,
    "--advertise-client-urls",
    member.clientUrl,
    "--listen-peer-urls",
    member.peerUrl,
    "--initial-advertise-peer-urls",
    member.peerUrl,
    "--initial-cluster",
    member.initialCluster,
    "--initial-cluster-state",
    "new",
    "--initial-cluster-token",
    member.clusterToken,
    "--heartbeat-interval",
    String(member.heartbeatMs),
    "--election-timeout",
    String(member.electionMs),
  ];
}

/** Options of the etcd driver. */
export interface EtcdDriverOptions {
  /** The etcd binary. Default /usr/bin/etcd (Debian's etcd-server). */
  binary?: string;
  /** Flags added after the common ones. Default: the zap logger, which 3.4 recommends. */
  extraArgs?: string[];
}

/** Runs members with an etcd binary. */
export function createEtcdDriver(options: EtcdDriverOptions = {}): ClusterDriver {
  const binary = options.binary ?? "/usr/bin/etcd";
  const extraArgs = options.extraArgs ?? ["--logger", "zap", "--log-outputs", "stderr"];
  return {
    name: "etcd",
    unavailableReason: () =>
      existsSync(binary)
        ? null
        : `${binary} not found (node scripts/ensure-system-deps.mjs bench installs it)`,
    version: () => {
      try {
        const text = execFileSync(binary, ["--version"], { encoding: "utf8" });
        return text.split("\n")[0]?.replace("etcd Version: ", "etcd ") ?? "etcd";
      } catch {
        return "etcd (version unknown)";
      }
    },
    command: (member) => ({ file: binary, args: [...memberFlags(member), ...extraArgs] }),
  };
}

/** Options of the raftkv driver. */
export interface RaftkvDriverOptions {
  /** The server's entry point. Default apps/server/dist/cli.js of this checkout. */
  cliPath?: string;
  /** Node flags before the entry point. */
  nodeArgs?: string[];
  /** Flags added after the common ones. */
  extraArgs?: string[];
}

/** The raftkv server entry in this repository, found relative to this module. */
export function defaultRaftkvCliPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../server/dist/cli.js");
}

/**
 * " (git 1a2b3c4)", with "+ uncommitted changes" when the checkout differs from it, for a
 * report to name the code it measured; "" outside a git checkout.
 */
function sourceRevision(dir: string): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync("git", ["-C", dir, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    const sha = git("rev-parse", "--short", "HEAD");
    // The server and the packages it is built from, relative to apps/server/dist.
    const dirty =
      git("status", "--porcelain", "--untracked-files=no", "--", "..", "../../../packages") !== "";
    return ` (git ${sha}${dirty ? " + uncommitted changes" : ""})`;
  } catch {
    return "";
  }
}

/** Runs members with the raftkv server under the current Node. */
export function createRaftkvDriver(options: RaftkvDriverOptions = {}): ClusterDriver {
  const cliPath = resolve(options.cliPath ?? defaultRaftkvCliPath());
  // Reports name the default entry relative to the repository, not this machine's path.
  const shown = options.cliPath ?? "apps/server/dist/cli.js";
  return {
    name: "raftkv",
    unavailableReason: () =>
      existsSync(cliPath)
        ? null
        : `${shown} does not exist; the server is not built (pnpm --filter raftkv build)`,
    version: () => {
      let version = "raftkv";
      try {
        const pkg = JSON.parse(readFileSync(join(dirname(cliPath), "../package.json"), "utf8"));
        version = `raftkv ${pkg.version}`;
      } catch {
        // Not next to its package.json (a custom --raftkv-cli): the name alone will do.
      }
      return `${version}${sourceRevision(dirname(cliPath))} on Node ${process.versions.node}`;
    },
    command: (member) => ({
      file: process.execPath,
      args: [
        ...(options.nodeArgs ?? []),
        cliPath,
        ...memberFlags(member),
        ...(options.extraArgs ?? []),
      ],
    }),
  };
}
