import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export interface DevClusterOptions {
  nodes: number;
  /** First client port; member i listens for clients on base+2i and for peers on base+2i+1. */
  basePort: number;
  host: string;
  /** Parent of every member's data dir and log file. */
  dir: string;
  /** The raftkv entry point to start for each member. */
  cliPath: string;
  /** Extra flags passed to every member. */
  extraArgs: string[];
}

export interface DevMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
  args: string[];
}

/** The members of a local dev cluster and the flags each is started with. */
export function planDevCluster(options: DevClusterOptions): DevMember[] {
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 9) {
    throw new RangeError("--nodes must be a whole number from 1 to 9");
  }
  const dir = resolve(options.dir);
  const names = Array.from({ length: options.nodes }, (_, i) => `node${i + 1}`);
  const peerUrl = (i: number) => `http://${options.host}:${options.basePort + 2 * i + 1}`;
  const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(",");
  return names.map((name, i) => {
    const clientUrl = `http://${options.host}:${options.basePort + 2 * i}`;
    const dataDir = join(dir, name);
    return {
      name,
      clientUrl,
      peerUrl: peerUrl(i),
      dataDir,
      logFile: join(dir, `${name}.log`),
      args: [
        "--name",
        name,
        "--data-dir",
        dataDir,
        "--listen-client-urls",
        clientUrl,
        "--advertise-client-urls",
        clientUrl,
        "--listen-peer-urls",
        peerUrl(i),
        "--initial-advertise-peer-urls",
        peerUrl(i),
        "--initial-cluster",
        initialCluster,
        "--initial-cluster-token",
        "raftkv-dev",
        "--initial-cluster-state",
        "new",
        ...options.extraArgs,
      ],
    };
  });
}

/**
 * Starts one raftkv process per member, each with its own data dir and log file, prints
 * the endpoints and stops every member (SIGTERM, then SIGKILL after 10 s) on Ctrl-C.
 * Resolves when all members have exited.
 */
export async function runDevCluster(
  options: DevClusterOptions,
  out: NodeJS.WritableStream,
): Promise<number> {
  const members = planDevCluster(options);
  mkdirSync(resolve(options.dir), { recursive: true });
  const children: ChildProcess[] = [];
  const exits: Promise<number>[] = [];
  for (const member of members) {
    const log = createWriteStream(member.logFile, { flags: "a" });
    const child = spawn(process.execPath, [options.cliPath, ...member.args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push(child);
    exits.push(
      new Promise((done) =>
        child.once("exit", (code, signal) => {
          out.write(`${member.name} (pid ${child.pid}) exited ${signal ?? code}\n`);
          done(code ?? 1);
        }),
      ),
    );
  }
  out.write(
    `raftkv dev cluster: ${members.length} members, data and logs in ${resolve(options.dir)}\n`,
  );
  for (const [i, m] of members.entries()) {
    out.write(
      `  ${m.name}  pid ${children[i]?.pid}  client ${m.clientUrl}  peer ${m.peerUrl}  log ${m.logFile}\n`,
    );
  }
  const endpoints = members.map((m) => m.clientUrl.replace("http://", "")).join(",");
  out.write(`\netcdctl --endpoints=${endpoints} put foo bar\n`);
  out.write(
    `etcdctl --endpoints=${endpoints} endpoint status -w table\n\nCtrl-C stops every member.\n`,
  );

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    out.write("stopping members...\n");
    for (const child of children) child.kill("SIGTERM");
    setTimeout(() => {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    }, 10_000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const codes = await Promise.all(exits);
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  return stopping ? 0 : Math.max(...codes);
}
