import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterDriver, MemberPlan } from "./cluster-driver.js";
import { parseEndpoint } from "./endpoint.js";
import { ClusterStartError, InvalidOptionError } from "./errors.js";
import { type MemberStatus, readStatus } from "./etcd-api.js";
import { findFreePorts } from "./free-port.js";
import { GrpcUnaryConnection } from "./grpc-unary-connection.js";

/** Options of a local cluster. */
export interface LocalClusterOptions {
  driver: ClusterDriver;
  /** Members. Default 3. */
  members?: number;
  /** Address every member binds. Default 127.0.0.1. */
  host?: string;
  /** Parent of the cluster's temporary directory (data dirs and logs). Default os.tmpdir(). */
  dataRoot?: string;
  /** --heartbeat-interval. Default 100, etcd's. */
  heartbeatMs?: number;
  /** --election-timeout. Default 1000, etcd's. */
  electionMs?: number;
  /** How long the members may take to agree on a leader. Default 60000. */
  readyTimeoutMs?: number;
  /** Keep the data dirs and logs after stop(). Default false. */
  keepData?: boolean;
}

/** One running member. */
export interface ClusterMember {
  name: string;
  pid: number;
  /** "host:port" of the client URL. */
  clientEndpoint: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
}

/** Members of every cluster this process started and has not stopped: killed on exit. */
const running = new Set<ChildProcess>();
/** Directories of clusters not stopped yet that should not outlive this process. */
const temporaryDirs = new Set<string>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A cluster of local server processes for one benchmark: free ports on one host, a fresh
 * temporary directory, each member's output in its own log file. start() resolves once
 * every member names the same leader; stop() ends the members by pid (SIGTERM, SIGKILL
 * after 10 s) and removes the directory. Members still running when this process exits
 * are killed and their directory removed (a process ended by a signal only gets there if
 * it handles the signal, as the CLI does).
 */
export class LocalCluster {
  /** Starts the members; rejects with ClusterStartError (with the log's tail) on failure. */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const count = options.members ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > 9) {
      throw new InvalidOptionError(`members must be 1–9, got ${count}`);
    }
    const reason = options.driver.unavailableReason();
    if (reason) throw new ClusterStartError(`cannot start ${options.driver.name}: ${reason}`);
    const host = options.host ?? "127.0.0.1";
    const dir = mkdtempSync(
      join(options.dataRoot ?? tmpdir(), `raftkv-bench-${options.driver.name}-`),
    );
    const ports = await findFreePorts(2 * count, host);
    const names = Array.from({ length: count }, (_, i) => `m${i + 1}`);
    const peerUrl = (i: number): string => `http://${host}:${ports[2 * i + 1]}`;
    const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(",");
    // One token for all members: it seeds the cluster id every member must agree on.
    const clusterToken = `raftkv-bench-${process.pid}-${Date.now()}`;
    const cluster = new LocalCluster(options.driver.name, dir, options.keepData ?? false);
    if (!options.keepData) temporaryDirs.add(dir);
    try {
      for (const [i, name] of names.entries()) {
        const plan: MemberPlan = {
          name,
          dataDir: join(dir, name),
          clientUrl: `http://${host}:${ports[2 * i]}`,
          peerUrl: peerUrl(i),
          initialCluster,
          clusterToken,
          heartbeatMs: options.heartbeatMs ?? 100,
          electionMs: options.electionMs ?? 1000,
        };
        cluster.spawnMember(options.driver, plan, `${host}:${ports[2 * i]}`);
      }
      await cluster.waitForLeader(options.readyTimeoutMs ?? 60_000);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  readonly members: ClusterMember[] = [];
  private readonly children: ChildProcess[] = [];
  private exitNote: string | null = null;

  private constructor(
    readonly serverName: string,
    /** The temporary directory holding data dirs and logs. */
    readonly dir: string,
    private readonly keepData: boolean,
  ) {}

  /** Every member's pid, for CPU accounting. */
  get pids(): number[] {
    return this.members.map((m) => m.pid);
  }

  /**
   * The member every member names as leader, with its status. Rejects with
   * ClusterStartError when members disagree or none is leader.
   */
  async findLeader(): Promise<{ member: ClusterMember; status: MemberStatus }> {
    const statuses = await Promise.all(this.members.map((m) => statusOf(m.clientEndpoint)));
    const leaderId = statuses[0]?.leader ?? 0n;
    if (leaderId === 0n || statuses.some((s) => s.leader !== leaderId)) {
      throw new ClusterStartError(
        `${this.serverName}: members disagree on the leader: ${statuses.map((s) => s.leader).join(", ")}`,
      );
    }
    const index = statuses.findIndex((s) => s.memberId === leaderId);
    const member = this.members[index];
    const status = statuses[index];
    if (!member || !status) {
      throw new ClusterStartError(`${this.serverName}: leader ${leaderId} is not a member`);
    }
    return { member, status };
  }

  /** The last `bytes` of a member's log. */
  logTail(member: ClusterMember, bytes = 2000): string {
    try {
      return readFileSync(member.logFile, "utf8").slice(-bytes);
    } catch {
      return "";
    }
  }

  /** Stops every member and removes the directory (unless keepData). Idempotent. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              running.delete(child);
              resolve();
              return;
            }
            const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
            child.once("exit", () => {
              clearTimeout(kill);
              running.delete(child);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
    if (!this.keepData) rmSync(this.dir, { recursive: true, force: true });
    temporaryDirs.delete(this.dir);
  }

  private spawnMember(driver: ClusterDriver, plan: MemberPlan, clientEndpoint: string): void {
    const logFile = join(this.dir, `${plan.name}.log`);
    const log = openSync(logFile, "a");
    const command = driver.command(plan);
    const child = spawn(command.file, command.args, { stdio: ["ignore", log, log] });
    closeSync(log);
    if (child.pid === undefined) {
      throw new ClusterStartError(`${driver.name}: could not start ${command.file}`);
    }
    running.add(child);
    child.once("exit", (code, signal) => {
      running.delete(child);
      this.exitNote ??= `${plan.name} (pid ${child.pid}) exited with ${signal ?? code}`;
    });
    this.children.push(child);
    this.members.push({
      name: plan.name,
      pid: child.pid,
      clientEndpoint,
      peerUrl: plan.peerUrl,
      dataDir: plan.dataDir,
      logFile,
    });
  }

  private async waitForLeader(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProblem = "no member answered yet";
    while (Date.now() < deadline) {
      if (this.exitNote) {
        const member = this.members.find((m) => this.exitNote?.startsWith(`${m.name} `));
        throw new ClusterStartError(
          `${this.serverName}: ${this.exitNote}${member ? `; log tail:\n${this.logTail(member)}` : ""}`,
        );
      }
      try {
        await this.findLeader();
        return;
      } catch (error) {
        lastProblem = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const tails = this.members.map((m) => `--- ${m.name}:\n${this.logTail(m, 600)}`).join("\n");
    throw new ClusterStartError(
      `${this.serverName}: no leader within ${timeoutMs} ms (${lastProblem})\n${tails}`,
    );
  }
}

async function statusOf(endpoint: string): Promise<MemberStatus> {
  const connection = await GrpcUnaryConnection.connect({
    ...parseEndpoint(endpoint),
    connectTimeoutMs: 2000,
    callTimeoutMs: 5000,
  });
  try {
    return await readStatus(connection);
  } finally {
    await connection.close();
  }
}
