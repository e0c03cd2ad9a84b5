import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

/** A configuration value was missing or wrong; the message names the flag. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`--${flag}: ${message}`);
    this.name = "ConfigError";
  }
}

export interface ServerConfig {
  name: string;
  dataDir: string;
  listenClientUrls: URL[];
  advertiseClientUrls: URL[];
  listenPeerUrls: URL[];
  initialAdvertisePeerUrls: URL[];
  /** Member name → peer URLs, from --initial-cluster. */
  initialCluster: Map<string, URL[]>;
  initialClusterState: "new" | "existing";
  initialClusterToken: string;
  /** Milliseconds between heartbeats; also Raft's tick. */
  heartbeatIntervalMs: number;
  /** Milliseconds without a leader before a member campaigns. */
  electionTimeoutMs: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  snapshotCount: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Enables the peer fault-injection endpoint, for tests and `raftkv dev`. */
  enableFaultInjection: boolean;
  /**
   * TLS on the client port (every https client URL), from etcd's --cert-file, --key-file,
   * --trusted-ca-file and --client-cert-auth.
   */
  clientTls: TlsFiles | undefined;
  /** TLS between peers (https peer URLs), from etcd's --peer-* flags. */
  peerTls: TlsFiles | undefined;
}

/** The PEM files and client-certificate rule of one TLS listener. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string | undefined;
  clientCertAuth: boolean;
}

interface FlagSpec {
  /** etcd's flag name where one exists with the same meaning. */
  name: string;
  kind: "string" | "int" | "bool";
  describe: string;
  default?: string;
}

export const flagSpecs: readonly FlagSpec[] = [
  {
    name: "name",
    kind: "string",
    describe: "Human-readable name of this member.",
    default: "default",
  },
  {
    name: "data-dir",
    kind: "string",
    describe: "Path to the data directory.",
    default: "raftkv.data",
  },
  {
    name: "listen-client-urls",
    kind: "string",
    describe: "URLs to serve clients on.",
    default: "http://127.0.0.1:2379",
  },
  {
    name: "advertise-client-urls",
    kind: "string",
    describe: "Client URLs to advertise to the cluster.",
  },
  {
    name: "listen-peer-urls",
    kind: "string",
    describe: "URLs to serve peers on.",
    default: "http://127.0.0.1:2380",
  },
  {
    name: "initial-advertise-peer-urls",
    kind: "string",
    describe: "This member's peer URLs to advertise to the cluster.",
  },
  {
    name: "initial-cluster",
    kind: "string",
    describe: "Initial cluster configuration: name=peerURL,...",
  },
  { name: "initial-cluster-state", kind: "string", describe: "new or existing.", default: "new" },
  {
    name: "initial-cluster-token",
    kind: "string",
    describe: "Initial cluster token, which makes the cluster id unique.",
    default: "raftkv-cluster",
  },
  {
    name: "heartbeat-interval",
    kind: "int",
    describe: "Time (in milliseconds) of a heartbeat interval.",
    default: "100",
  },
  {
    name: "election-timeout",
    kind: "int",
    describe: "Time (in milliseconds) for an election to timeout.",
    default: "1000",
  },
  {
    name: "max-request-bytes",
    kind: "int",
    describe: "Maximum client request size in bytes the server will accept.",
    default: "1572864",
  },
  {
    name: "max-txn-ops",
    kind: "int",
    describe: "Maximum number of operations permitted in a transaction.",
    default: "128",
  },
  {
    name: "snapshot-count",
    kind: "int",
    describe: "Number of committed entries between log compactions.",
    default: "100000",
  },
  { name: "log-level", kind: "string", describe: "debug, info, warn or error.", default: "info" },
  {
    name: "enable-fault-injection",
    kind: "bool",
    describe: "Serve the peer fault-injection endpoint (tests only).",
    default: "false",
  },
  {
    name: "cert-file",
    kind: "string",
    describe: "Path to the client server TLS cert file (needed for https client URLs).",
  },
  { name: "key-file", kind: "string", describe: "Path to the client server TLS key file." },
  {
    name: "trusted-ca-file",
    kind: "string",
    describe: "Path to the client server TLS trusted CA file.",
  },
  {
    name: "client-cert-auth",
    kind: "bool",
    describe: "Require clients to present a certificate signed by the trusted CA.",
    default: "false",
  },
  {
    name: "peer-cert-file",
    kind: "string",
    describe: "Path to the peer server TLS cert file (needed for https peer URLs).",
  },
  { name: "peer-key-file", kind: "string", describe: "Path to the peer server TLS key file." },
  {
    name: "peer-trusted-ca-file",
    kind: "string",
    describe: "Path to the peer server TLS trusted CA file.",
  },
  {
    name: "peer-client-cert-auth",
    kind: "bool",
    describe: "Require peers to present a certificate signed by the trusted CA.",
    default: "false",
  },
  {
    name: "config-file",
    kind: "string",
    describe: "Path to a YAML or JSON file of the options above (flag names as keys).",
  },
];

const specByName = new Map(flagSpecs.map((s) => [s.name, s]));

/** RAFTKV_DATA_DIR for --data-dir, as etcd reads ETCD_DATA_DIR. */
export function envName(flag: string): string {
  return `RAFTKV_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** Parses `--flag value`, `--flag=value` and bare boolean flags. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--"))
      throw new ConfigError(arg, "unexpected argument; flags start with --");
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specByName.get(name);
    if (!spec) throw new ConfigError(name, "unknown flag (see --help)");
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else if (
      spec.kind === "bool" &&
      (argv[i + 1] === undefined || argv[i + 1]?.startsWith("--"))
    ) {
      value = "true";
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(name, "needs a value");
      value = next;
      i++;
    }
    values.set(name, value);
  }
  return values;
}

function readConfigFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError("config-file", `cannot read ${path}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError("config-file", `${path} is not valid: ${(error as Error).message}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError("config-file", `${path} must hold a map of option names to values`);
  }
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(doc)) {
    if (!specByName.has(key) || key === "config-file") {
      throw new ConfigError(key, `unknown option in ${path}`);
    }
    values.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  return values;
}

function parseUrls(flag: string, value: string): URL[] {
  const urls = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      let url: URL;
      try {
        url = new URL(s);
      } catch {
        throw new ConfigError(flag, `"${s}" is not a URL`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new ConfigError(flag, `"${s}" must use http or https`);
      }
      if (url.port === "") throw new ConfigError(flag, `"${s}" must name a port`);
      if (url.pathname !== "/" || url.search !== "") {
        throw new ConfigError(flag, `"${s}" must not have a path or query`);
      }
      return url;
    });
  if (urls.length === 0) throw new ConfigError(flag, "needs at least one URL");
  return urls;
}

function parseWholeNumber(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(flag, `"${value}" is not a whole number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(flag, `must be at least ${min}`);
  return n;
}

function parseInitialCluster(value: string): Map<string, URL[]> {
  const cluster = new Map<string, URL[]>();
  for (const part of value.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq <= 0) throw new ConfigError("initial-cluster", `"${item}" is not name=url`);
    const name = item.slice(0, eq);
    const urls = parseUrls("initial-cluster", item.slice(eq + 1));
    cluster.set(name, [...(cluster.get(name) ?? []), ...urls]);
  }
  if (cluster.size === 0) throw new ConfigError("initial-cluster", "names no members");
  return cluster;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(flag, `"${value}" is not one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/**
 * Builds the configuration from, in rising priority: defaults, the config file,
 * RAFTKV_* environment variables and command-line flags. Throws ConfigError naming the
 * offending flag.
 */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const flags = parseFlags(argv);
  const file = flags.get("config-file") ?? env[envName("config-file")];
  const fromFile = file ? readConfigFile(file) : new Map<string, string>();
  const get = (name: string): string | undefined =>
    flags.get(name) ?? env[envName(name)] ?? fromFile.get(name) ?? specByName.get(name)?.default;
  const bool = (name: string): boolean => {
    const v = get(name) ?? "false";
    return oneOf(name, v, ["true", "false"]) === "true";
  };

  const name = get("name") as string;
  if (name === "" || /[,=\s]/.test(name)) {
    throw new ConfigError("name", "must be non-empty and contain no ',', '=' or spaces");
  }
  const listenClientUrls = parseUrls("listen-client-urls", get("listen-client-urls") as string);
  const listenPeerUrls = parseUrls("listen-peer-urls", get("listen-peer-urls") as string);
  const advertiseClient = get("advertise-client-urls");
  const advertisePeer = get("initial-advertise-peer-urls");
  const initialAdvertisePeerUrls = advertisePeer
    ? parseUrls("initial-advertise-peer-urls", advertisePeer)
    : listenPeerUrls;
  const clusterText =
    get("initial-cluster") ?? `${name}=${initialAdvertisePeerUrls.map((u) => u.origin).join(",")}`;
  const initialCluster = parseInitialCluster(clusterText);
  const own = initialCluster.get(name);
  if (!own) {
    throw new ConfigError("initial-cluster", `does not name this member "${name}" (see --name)`);
  }
  const ownOrigins = new Set(own.map((u) => u.origin));
  if (!initialAdvertisePeerUrls.every((u) => ownOrigins.has(u.origin))) {
    throw new ConfigError(
      "initial-advertise-peer-urls",
      `${initialAdvertisePeerUrls.map((u) => u.origin).join(",")} does not match --initial-cluster's entry for "${name}" (${[...ownOrigins].join(",")})`,
    );
  }
  const heartbeatIntervalMs = parseWholeNumber(
    "heartbeat-interval",
    get("heartbeat-interval") as string,
    1,
  );
  const electionTimeoutMs = parseWholeNumber(
    "election-timeout",
    get("election-timeout") as string,
    1,
  );
  if (electionTimeoutMs < 5 * heartbeatIntervalMs) {
    throw new ConfigError(
      "election-timeout",
      `${electionTimeoutMs}ms should be at least 5 times --heartbeat-interval (${heartbeatIntervalMs}ms)`,
    );
  }
  if (electionTimeoutMs > 50_000)
    throw new ConfigError("election-timeout", "is longer than 50000ms");
  const peerUrls = [
    ...listenPeerUrls,
    ...initialAdvertisePeerUrls,
    ...[...initialCluster.values()].flat(),
  ];
  /**
   * etcd's `--<prefix>cert-file`, `--<prefix>key-file`, `--<prefix>trusted-ca-file` and
   * `--<prefix>client-cert-auth`, for listeners whose URLs use https (`https`) or not.
   */
  const tlsFiles = (
    prefix: "" | "peer-",
    kind: "client" | "peer",
    https: boolean,
    whyUnused: string,
  ): TlsFiles | undefined => {
    const certFile = get(`${prefix}cert-file`);
    const keyFile = get(`${prefix}key-file`);
    if (!https) {
      if (certFile || keyFile) {
        throw new ConfigError(
          `${prefix}${certFile ? "cert-file" : "key-file"}`,
          `is given but ${whyUnused}`,
        );
      }
      return undefined;
    }
    if (!certFile)
      throw new ConfigError(`${prefix}cert-file`, `is required for https ${kind} URLs`);
    if (!keyFile) throw new ConfigError(`${prefix}key-file`, `is required for https ${kind} URLs`);
    return {
      certFile,
      keyFile,
      caFile: get(`${prefix}trusted-ca-file`) || undefined,
      clientCertAuth: bool(`${prefix}client-cert-auth`),
    };
  };
  const tlsPeers = peerUrls.filter((u) => u.protocol === "https:").length;
  if (tlsPeers > 0 && tlsPeers !== peerUrls.length) {
    throw new ConfigError("listen-peer-urls", "peer URLs must all use https or all use http");
  }
  const peerTls = tlsFiles("peer-", "peer", tlsPeers > 0, "the peer URLs use http");
  const clientTls = tlsFiles(
    "",
    "client",
    listenClientUrls.some((u) => u.protocol === "https:"),
    "no client URL uses https",
  );
  if (bool("client-cert-auth") && clientTls?.caFile === undefined) {
    throw new ConfigError("client-cert-auth", "needs --trusted-ca-file and an https client URL");
  }
  return {
    name,
    dataDir: get("data-dir") as string,
    listenClientUrls,
    advertiseClientUrls: advertiseClient
      ? parseUrls("advertise-client-urls", advertiseClient)
      : listenClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: oneOf("initial-cluster-state", get("initial-cluster-state") as string, [
      "new",
      "existing",
    ]),
    initialClusterToken: get("initial-cluster-token") as string,
    heartbeatIntervalMs,
    electionTimeoutMs,
    maxRequestBytes: parseWholeNumber("max-request-bytes", get("max-request-bytes") as string, 1),
    maxTxnOps: parseWholeNumber("max-txn-ops", get("max-txn-ops") as string, 1),
    snapshotCount: parseWholeNumber("snapshot-count", get("snapshot-count") as string, 1),
    logLevel: oneOf("log-level", get("log-level") as string, ["debug", "info", "warn", "error"]),
    enableFaultInjection: bool("enable-fault-injection"),
    clientTls,
    peerTls,
  };
}

/** The text of `raftkv --help`. */
export function helpText(): string {
  const lines = flagSpecs.map((s) => {
    const def = s.default !== undefined ? ` (default ${s.default})` : "";
    return `  --${s.name.padEnd(30)} ${s.describe}${def}`;
  });
  return [
    "Usage: raftkv [flags]         start a member (no flags: one-member cluster on 127.0.0.1:2379)",
    "       raftkv dev --nodes N   start a local N-member cluster, one process per member",
    "",
    "Flags (each also read from RAFTKV_<FLAG_NAME> and from --config-file):",
    ...lines,
  ].join("\n");
}
