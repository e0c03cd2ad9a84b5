import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterNotReadyError, DriverError, UsageError } from "../errors.js";
import { createEtcdClient } from "../etcd-client.js";
import type { ClusterDriver, DriverOptions, MemberInfo } from "./cluster-driver.js";
import { freePorts } from "./free-port.js";

/** Where one member listens and keeps its data. */
export interface MemberLayout {
  readonly name: string;
  readonly host: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
}

/** The whole cluster, as the command line of each member needs it. */
export interface ClusterLayout {
  readonly members: readonly MemberLayout[];
  /** Unique per cluster, so members of different test clusters never talk. */
  readonly token: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
}

/** The process to run for a member. */
export interface MemberCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the driver's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Options of `createProcessCluster`: a driver's options plus how to run a member. */
export interface ProcessClusterOptions extends DriverOptions {
  /** The command line of `member`; the only part that differs between servers. */
  commandFor(member: MemberLayout, cluster: ClusterLayout): MemberCommand;
  /** Loopback address to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /**
   * Whether start() and restart() wait for a known leader, or only for Maintenance.Status
   * to answer. Default true. The Raft peer suite starts one real member among fake
   * peers, which has no leader until the suite's script gives it one.
   */
  readonly waitForLeader?: boolean;
}

type MemberState = "stopped" | "running" | "paused";

interface Member {
  readonly layout: MemberLayout;
  state: MemberState;
  child: ChildProcess | undefined;
  exited: Promise<void> | undefined;
  /** Set when the process ended without the driver asking. */
  unexpectedExit: string | undefined;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const READY_POLL_MS = 200;

// Children still alive when this process exits are killed, so that a crashed test run
// does not leave servers (or frozen, SIGSTOPped ones) behind.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of liveChildren) {
        try {
          c.kill("SIGCONT");
          c.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
    });
  }
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
}

/**
 * A cluster of local server processes started with etcd-style flags, with SIGKILL,
 * SIGSTOP/SIGCONT and restart faults. The etcd and raftkv drivers are this with a
 * different `commandFor`. Each member logs to `<baseDir>/<name>.log`.
 *
 * @throws UsageError for a member count below 1 or non-positive timings.
 */
export function createProcessCluster(options: ProcessClusterOptions): ClusterDriver {
  const size = options.members ?? 3;
  if (!Number.isInteger(size) || size < 1)
    throw new UsageError(`members must be >= 1, got ${size}`);
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 100;
  const electionTimeoutMs = options.electionTimeoutMs ?? 1_000;
  if (!(heartbeatIntervalMs > 0 && electionTimeoutMs > heartbeatIntervalMs)) {
    throw new UsageError("need 0 < heartbeat interval < election timeout");
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const host = options.host ?? "127.0.0.1";
  const needLeader = options.waitForLeader ?? true;

  let baseDir: string | undefined;
  let createdBaseDir = false;
  let layout: ClusterLayout | undefined;
  const members = new Map<string, Member>();

  const memberNamed = (name: string): Member => {
    const member = members.get(name);
    if (member === undefined) {
      throw new DriverError(
        `unknown member ${JSON.stringify(name)}; members: ${[...members.keys()].join(", ")}`,
      );
    }
    return member;
  };

  const launch = (member: Member): void => {
    if (layout === undefined || baseDir === undefined) throw new DriverError("cluster not started");
    const command = options.commandFor(member.layout, layout);
    const logFd = openSync(join(baseDir, `${member.layout.name}.log`), "a");
    let child: ChildProcess;
    try {
      child = spawn(command.command, [...command.args], {
        stdio: ["ignore", logFd, logFd],
        env: { ...process.env, ...command.env },
      });
    } finally {
      closeSync(logFd);
    }
    trackChild(child);
    member.child = child;
    member.state = "running";
    member.unexpectedExit = undefined;
    member.exited = new Promise<void>((resolve) => {
      child.once("error", (error) => {
        // Spawning failed (no such executable): there is no process to wait for.
        if (child.pid !== undefined) return;
        member.unexpectedExit = `could not start ${command.command}: ${error.message}`;
        member.state = "stopped";
        member.child = undefined;
        resolve();
      });
      child.once("exit", (code, signal) => {
        if (member.child === child && member.state !== "stopped") {
          member.unexpectedExit = `exited by itself (code ${code}, signal ${signal})`;
        }
        member.state = "stopped";
        member.child = undefined;
        resolve();
      });
    });
  };

  const signal = (member: Member, sig: NodeJS.Signals): void => {
    const child = member.child;
    if (child === undefined || child.pid === undefined) {
      throw new DriverError(`member ${member.layout.name} is not running`);
    }
    try {
      process.kill(child.pid, sig);
    } catch (cause) {
      throw new DriverError(`could not send ${sig} to member ${member.layout.name}`, { cause });
    }
  };

  const stopMember = async (member: Member, sig: "SIGTERM" | "SIGKILL"): Promise<void> => {
    if (member.child === undefined) return;
    const exited = member.exited;
    const paused = member.state === "paused";
    member.state = "stopped";
    // The process may be exiting already (its exit event not yet seen): then there is
    // nothing to signal, only an exit to wait for.
    const trySignal = (s: NodeJS.Signals) => {
      try {
        signal(member, s);
      } catch {
        // Gone already.
      }
    };
    if (paused) trySignal("SIGCONT");
    trySignal(sig);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([
      exited?.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (gaveUp && member.child !== undefined) {
      trySignal("SIGKILL");
      await exited;
    }
  };

  const waitServing = async (targets: readonly Member[], needLeader: boolean): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    for (const member of targets) {
      const endpoint = `${member.layout.host}:${member.layout.clientPort}`;
      const client = createEtcdClient(endpoint, { timeoutMs: 2_000 });
      try {
        let last = "no answer yet";
        for (;;) {
          if (member.unexpectedExit !== undefined) {
            throw new ClusterNotReadyError(
              `member ${member.layout.name} ${member.unexpectedExit}; see ${join(baseDir ?? "", `${member.layout.name}.log`)}`,
            );
          }
          try {
            const status = await client.maintenance.status({});
            if (!needLeader || status.leader !== 0n) break;
            last = "no leader";
          } catch (error) {
            last = error instanceof Error ? error.message : String(error);
          }
          if (Date.now() > deadline) {
            throw new ClusterNotReadyError(
              `member ${member.layout.name} (${endpoint}) not serving after ${readyTimeoutMs} ms: ${last}`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
        }
      } finally {
        client.close();
      }
    }
  };

  return {
    async start() {
      if (layout !== undefined) throw new DriverError("cluster already started");
      if (options.baseDir === undefined) {
        baseDir = await mkdtemp(join(tmpdir(), "raftkv-conformance-"));
        createdBaseDir = true;
      } else {
        baseDir = options.baseDir;
        await mkdir(baseDir, { recursive: true });
      }
      const ports = await freePorts(size * 2, host);
      const memberLayouts = Array.from({ length: size }, (_, i) => ({
        name: `m${i + 1}`,
        host,
        clientPort: ports[2 * i]!,
        peerPort: ports[2 * i + 1]!,
        dataDir: join(baseDir!, `m${i + 1}.data`),
      }));
      layout = {
        members: memberLayouts,
        token: `raftkv-conformance-${process.pid}-${Date.now().toString(36)}`,
        heartbeatIntervalMs,
        electionTimeoutMs,
      };
      for (const memberLayout of memberLayouts) {
        members.set(memberLayout.name, {
          layout: memberLayout,
          state: "stopped",
          child: undefined,
          exited: undefined,
          unexpectedExit: undefined,
        });
      }
      for (const member of members.values()) launch(member);
      await waitServing([...members.values()], needLeader);
    },
    async stop() {
      await Promise.all([...members.values()].map((member) => stopMember(member, "SIGTERM")));
      if (baseDir !== undefined && createdBaseDir && options.keepData !== true) {
        await rm(baseDir, { recursive: true, force: true });
      }
      members.clear();
      layout = undefined;
    },
    async kill(name) {
      const member = memberNamed(name);
      if (member.state === "stopped") throw new DriverError(`member ${name} is not running`);
      await stopMember(member, "SIGKILL");
    },
    async pause(name) {
      const member = memberNamed(name);
      if (member.state !== "running")
        throw new DriverError(`member ${name} is ${member.state}, not running`);
      signal(member, "SIGSTOP");
      member.state = "paused";
    },
    async resume(name) {
      const member = memberNamed(name);
      if (member.state !== "paused")
        throw new DriverError(`member ${name} is ${member.state}, not paused`);
      signal(member, "SIGCONT");
      member.state = "running";
    },
    async restart(name) {
      const member = memberNamed(name);
      if (member.state !== "stopped") await stopMember(member, "SIGTERM");
      launch(member);
      // A majority elsewhere keeps a leader; a lone restarted member needs one too.
      await waitServing([member], needLeader);
    },
    endpoints() {
      return [...members.values()].map((m) => `${m.layout.host}:${m.layout.clientPort}`);
    },
    members(): MemberInfo[] {
      return [...members.values()].map((m) => ({
        name: m.layout.name,
        endpoint: `${m.layout.host}:${m.layout.clientPort}`,
      }));
    },
  };
}

/**
 * etcd's member flags (which raftkv's server accepts too): names, data dir, client and
 * peer URLs, the initial cluster and its token, and Raft timing.
 */
export function etcdStyleFlags(member: MemberLayout, cluster: ClusterLayout): string[] {
  const peerUrl = (m: MemberLayout) => `http://${m.host}:${m.peerPort}`;
  const clientUrl = `http://${member.host}:${member.clientPort}`;
  return [
    "--name",
    member.name,
    "--data-dir",
    member.dataDir,
    "--listen-client-urls",
    clientUrl,
    "--advertise-client-urls",
    clientUrl,
    "--listen-peer-urls",
    peerUrl(member),
    "--initial-advertise-peer-urls",
    peerUrl(member),
    "--initial-cluster",
    cluster.members.map((m) => `${m.name}=${peerUrl(m)}`).join(","),
    "--initial-cluster-state",
    "new",
    "--initial-cluster-token",
    cluster.token,
    "--heartbeat-interval",
    String(cluster.heartbeatIntervalMs),
    "--election-timeout",
    String(cluster.electionTimeoutMs),
  ];
}
