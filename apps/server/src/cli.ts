#!/usr/bin/env node
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, helpText, loadConfig } from "./config.js";
import { runDevCluster } from "./dev-cluster.js";
import { RaftKvMember } from "./member.js";
import { createLogger } from "./observability.js";

function devOptions(argv: string[]): {
  nodes: number;
  basePort: number;
  dir: string;
  extra: string[];
} {
  let nodes = 3;
  let basePort = 2379;
  let dir = ".raftkv-dev";
  const extra: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=")
      ? (arg.split("=", 2) as [string, string])
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ConfigError(flag.replace(/^--/, ""), "needs a value");
      return v;
    };
    if (flag === "--nodes") nodes = Number(value());
    else if (flag === "--base-port") basePort = Number(value());
    else if (flag === "--dir") dir = value();
    else extra.push(arg);
  }
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9)
    throw new ConfigError("nodes", "must be 1 to 9");
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + 2 * nodes > 65535) {
    throw new ConfigError("base-port", "must leave room for two ports per member below 65536");
  }
  return { nodes, basePort, dir, extra };
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if (argv[0] === "--version") {
    process.stdout.write("raftkv 0.0.0 (etcd API 3.4)\n");
    return 0;
  }
  if (argv[0] === "dev") {
    const o = devOptions(argv.slice(1));
    return runDevCluster(
      {
        nodes: o.nodes,
        basePort: o.basePort,
        host: "127.0.0.1",
        dir: o.dir,
        cliPath: join(dirname(fileURLToPath(import.meta.url)), "cli.js"),
        extraArgs: o.extra,
      },
      process.stdout,
    );
  }
  const config = loadConfig(argv);
  const logger = createLogger(config.logLevel, config.name);
  const member = await RaftKvMember.start(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, "received signal, shutting down");
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve();
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  const forced = setTimeout(() => {
    logger.error({}, "shutdown took longer than 10 s; exiting");
    process.exit(1);
  }, 10_000);
  forced.unref();
  await member.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`raftkv: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(
      `raftkv: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
