import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV, Maintenance } from "@raftkv/proto/etcd";
import { freePorts, type TestCertificates } from "@raftkv/test-support";

export const CLI_PATH = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "cli.js");

export interface TestMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | undefined;
  kv: Client<typeof KV>;
  maintenance: Client<typeof Maintenance>;
}

export interface ProcessClusterOptions {
  size: number;
  /** Extra flags for every member. */
  args?: string[];
  /** Milliseconds; default 100 / 1000 as etcd. */
  heartbeatMs?: number;
  electionMs?: number;
  /** Mutual TLS between peers (https peer URLs) with these certificates. */
  tls?: TestCertificates;
}

/**
 * Real raftkv processes on 127.0.0.1 ports picked for the test, with data dirs under a
 * temp dir. `close()` kills every process it started, by pid, and removes the dirs.
 */
export class ProcessCluster {
  readonly members: TestMember[] = [];
  private constructor(
    readonly root: string,
    private readonly flags: (m: TestMember) => string[],
  ) {}

  static async start(options: ProcessClusterOptions): Promise<ProcessCluster> {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: build the server first`);
    const root = await mkdtemp(join(tmpdir(), "raftkv-test-"));
    const ports = await freePorts(options.size * 2);
    const names = Array.from({ length: options.size }, (_, i) => `m${i + 1}`);
    const scheme = options.tls === undefined ? "http" : "https";
    const peerUrl = (i: number) => `${scheme}://127.0.0.1:${ports[2 * i + 1]}`;
    const tlsFlags =
      options.tls === undefined
        ? []
        : [
            "--peer-cert-file",
            options.tls.memberCert,
            "--peer-key-file",
            options.tls.memberKey,
            "--peer-trusted-ca-file",
            options.tls.caFile,
            "--peer-client-cert-auth",
          ];
    const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(",");
    const cluster = new ProcessCluster(root, (m) => [
      "--name",
      m.name,
      "--data-dir",
      m.dataDir,
      "--listen-client-urls",
      m.clientUrl,
      "--listen-peer-urls",
      m.peerUrl,
      "--initial-cluster",
      initialCluster,
      "--initial-cluster-token",
      "test",
      "--heartbeat-interval",
      String(options.heartbeatMs ?? 100),
      "--election-timeout",
      String(options.electionMs ?? 1000),
      "--log-level",
      "info",
      "--enable-fault-injection",
      ...tlsFlags,
      ...(options.args ?? []),
    ]);
    for (const [i, name] of names.entries()) {
      const clientUrl = `http://127.0.0.1:${ports[2 * i]}`;
      const transport = createGrpcTransport({ baseUrl: clientUrl });
      cluster.members.push({
        name,
        clientUrl,
        peerUrl: peerUrl(i),
        dataDir: join(root, name),
        process: undefined,
        kv: createClient(KV, transport),
        maintenance: createClient(Maintenance, transport),
      });
    }
    for (const m of cluster.members) cluster.spawn(m);
    await cluster.waitForLeader();
    return cluster;
  }

  member(name: string): TestMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  private spawn(m: TestMember): void {
    const log = createWriteStream(join(this.root, `${m.name}.log`), { flags: "a" });
    const child = spawn(process.execPath, [CLI_PATH, ...this.flags(m)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    m.process = child;
  }

  /** Starts a stopped member again with the same flags and data dir. */
  restart(name: string): void {
    const m = this.member(name);
    if (m.process && m.process.exitCode === null && m.process.signalCode === null) {
      throw new Error(`${name} is still running`);
    }
    this.spawn(m);
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const m = this.member(name);
    const child = m.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
  }

  /** The running members' names. */
  running(): TestMember[] {
    return this.members.filter(
      (m) => m.process && m.process.exitCode === null && m.process.signalCode === null,
    );
  }

  /** Waits until every running member reports the same leader; returns its name. */
  async waitForLeader(timeoutMs = 60_000, among: TestMember[] = this.running()): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const statuses = await Promise.all(
          among.map((m) => m.maintenance.status({}, { timeoutMs: 2_000 })),
        );
        const leaders = new Set(statuses.map((s) => s.leader));
        const [leader] = leaders;
        if (leaders.size === 1 && leader !== undefined && leader !== 0n) {
          const index = statuses.findIndex((s) => s.header?.memberId === leader);
          if (index >= 0) return among[index]!.name;
          // The leader is not among `among`; name it by asking the rest.
          for (const m of this.running()) {
            const s = await m.maintenance.status({}, { timeoutMs: 2_000 });
            if (s.header?.memberId === leader) return m.name;
          }
        }
        last = `leaders seen: ${[...leaders].join(",")}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no agreed leader within ${timeoutMs} ms (${last}); logs in ${this.root}`);
  }

  /** POSTs a fault-injection command to a member's /debug/faults. */
  async faults(name: string, command: Record<string, unknown>): Promise<unknown> {
    const res = await fetch(`${this.member(name).clientUrl}/debug/faults`, {
      method: "POST",
      body: JSON.stringify(command),
    });
    if (!res.ok) throw new Error(`faults ${name}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => this.stop(m.name, "SIGKILL")));
    await rm(this.root, { recursive: true, force: true });
  }
}
