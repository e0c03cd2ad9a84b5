import { join } from "node:path";
import { DriverError } from "../errors.js";
import { createEtcdClient, type EtcdClient } from "../etcd-client.js";
import type { ClusterDriver } from "../jepsen/cluster-driver.js";
import {
  createProcessCluster,
  etcdStyleFlags,
  type MemberLayout,
} from "../jepsen/process-cluster.js";
import { raftkvCommand } from "../jepsen/raftkv-driver.js";

/** The one real member the Raft peer suite drives. */
export interface NodeUnderTest {
  /** Its peer URL (`http://host:port`), where it serves `RaftService`. */
  readonly peerUrl: string;
  /** Its client endpoint (`host:port`), for Maintenance.Status and KV.Range. */
  readonly clientEndpoint: string;
  readonly client: EtcdClient;
  /** Whether `crashAndRestart` works: only when the suite started the member itself. */
  readonly canRestart: boolean;
  /**
   * Where its log is kept after the run, for failure reports; undefined when it is not
   * kept (or the operator runs the member).
   */
  readonly logFile: string | undefined;
  /**
   * SIGKILL (nothing unsynced survives), then start it again on the same data; resolves
   * when Maintenance.Status answers.
   *
   * @throws DriverError when the member cannot be restarted (operator-run) or signalled.
   * @throws ClusterNotReadyError when it does not serve again in time.
   */
  crashAndRestart(): Promise<void>;
  /** Stops it, if the suite started it, and closes the client. */
  close(): Promise<void>;
}

/** A fake member the node under test is told about in its --initial-cluster. */
export interface FakeMemberAddress {
  readonly name: string;
  /** `http://host:port`. */
  readonly url: string;
}

/** Options of `launchNode`. */
export interface LaunchNodeOptions {
  /** The other members of the cluster: the suite's fake peers. */
  readonly fakeMembers: readonly FakeMemberAddress[];
  /** Server command and leading arguments; default the raftkv server of this repository. */
  readonly command?: readonly string[];
  /** Directory for the member's data and log (created; deleted by close unless keepData). */
  readonly baseDir: string;
  readonly keepData?: boolean;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  /** How long to wait for Maintenance.Status to answer after a (re)start. Default 60 000 ms. */
  readonly readyTimeoutMs?: number;
}

/**
 * Starts one server process with etcd-style flags whose --initial-cluster names it and
 * the fake peers, on free loopback ports, and resolves once it answers Maintenance.Status
 * (it has no leader: the fake peers do not answer unless a script tells them to).
 *
 * @throws DriverError when the server is not built (default command) or cannot start.
 * @throws ClusterNotReadyError when it does not serve in time.
 */
export async function launchNode(options: LaunchNodeOptions): Promise<NodeUnderTest> {
  const [command, ...leading] = raftkvCommand(options.command);
  let layout: MemberLayout | undefined;
  const driver: ClusterDriver = createProcessCluster({
    members: 1,
    baseDir: options.baseDir,
    keepData: options.keepData ?? false,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    electionTimeoutMs: options.electionTimeoutMs,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    waitForLeader: false,
    commandFor: (member, cluster) => {
      layout = member;
      const fakes = options.fakeMembers.map((fake): MemberLayout => {
        const url = new URL(fake.url);
        return {
          name: fake.name,
          host: url.hostname,
          peerPort: Number(url.port),
          clientPort: 0,
          dataDir: "",
        };
      });
      return {
        command,
        args: [...leading, ...etcdStyleFlags(member, { ...cluster, members: [member, ...fakes] })],
      };
    },
  });
  try {
    await driver.start();
  } catch (error) {
    await driver.stop().catch(() => {});
    throw error;
  }
  const started = layout;
  const name = driver.members()[0]?.name;
  if (started === undefined || name === undefined) {
    await driver.stop();
    throw new DriverError("the process cluster started no member");
  }
  const clientEndpoint = `${started.host}:${started.clientPort}`;
  const client = createEtcdClient(clientEndpoint, { timeoutMs: 5_000 });
  return {
    peerUrl: `http://${started.host}:${started.peerPort}`,
    clientEndpoint,
    client,
    canRestart: true,
    logFile: options.keepData === true ? join(options.baseDir, `${name}.log`) : undefined,
    async crashAndRestart() {
      await driver.kill(name);
      await driver.restart(name);
    },
    async close() {
      client.close();
      await driver.stop();
    },
  };
}

/** A member the operator started (`raft --target`); the suite cannot restart it. */
export function attachNode(peerUrl: string, clientEndpoint: string): NodeUnderTest {
  const client = createEtcdClient(clientEndpoint, { timeoutMs: 5_000 });
  return {
    peerUrl,
    clientEndpoint,
    client,
    canRestart: false,
    logFile: undefined,
    async crashAndRestart() {
      throw new DriverError(
        "the member under test was started by the operator; it cannot be restarted",
      );
    },
    async close() {
      client.close();
    },
  };
}
