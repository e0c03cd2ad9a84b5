import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Endpoint, formatEndpoint } from "./endpoint.js";
import { InvalidOptionError, ToolError } from "./errors.js";

/** Options of one h2load run. */
export interface H2loadOptions {
  endpoint: Endpoint;
  /** gRPC method path, e.g. "/etcdserverpb.KV/Range". */
  path: string;
  /** The gRPC-framed request body, sent unchanged on every request. */
  body: Uint8Array;
  /** Connections (h2load -c). */
  connections: number;
  /** Streams in flight per connection (h2load -m). */
  streamsPerConnection: number;
  /** Measured seconds (h2load -D). */
  durationSeconds: number;
  /** Unmeasured seconds before (h2load --warm-up-time). Default 1. */
  warmupSeconds?: number;
  /** h2load threads (-t). Default 1. */
  threads?: number;
  /** The binary. Default /usr/bin/h2load (Debian's nghttp2-client). */
  binary?: string;
}

/** What h2load reported. */
export interface H2loadResult {
  command: string;
  requestsPerSecond: number;
  succeeded: number;
  failed: number;
  errored: number;
  /** Responses with an HTTP status other than 2xx. */
  non2xx: number;
  meanLatencyMs: number;
  maxLatencyMs: number;
}

/** Whether h2load is installed. */
export function h2loadAvailable(binary = "/usr/bin/h2load"): boolean {
  return existsSync(binary);
}

/**
 * Runs h2load against a gRPC unary method, as an independent cross-check of the load
 * generator: h2load is C and costs a few µs per request. It sends one fixed body and
 * counts HTTP statuses only (a gRPC error arrives as HTTP 200 with a grpc-status
 * trailer), so it suits a read of one key, not puts over a key space. Rejects with
 * ToolError when h2load fails or prints something unexpected.
 */
export async function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  for (const [name, value] of [
    ["connections", options.connections],
    ["streamsPerConnection", options.streamsPerConnection],
    ["durationSeconds", options.durationSeconds],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidOptionError(`h2load ${name} must be a whole number ≥ 1, got ${value}`);
    }
  }
  const binary = options.binary ?? "/usr/bin/h2load";
  const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-h2load-"));
  const bodyFile = join(dir, "request.bin");
  writeFileSync(bodyFile, options.body);
  const args = [
    "-c",
    String(options.connections),
    "-m",
    String(options.streamsPerConnection),
    "-t",
    String(options.threads ?? 1),
    "-D",
    String(options.durationSeconds),
    `--warm-up-time=${options.warmupSeconds ?? 1}`,
    "-d",
    bodyFile,
    "-H",
    "content-type: application/grpc",
    "-H",
    "te: trailers",
    `http://${formatEndpoint(options.endpoint)}${options.path}`,
  ];
  const command = `h2load ${args.join(" ").replace(bodyFile, "<request.bin>")}`;
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(binary, args, { maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error)
          reject(new ToolError(`${command} failed: ${stderr || error.message}`, { cause: error }));
        else resolve(stdout);
      });
    });
    return { command, ...parseH2loadOutput(output) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses h2load's summary; throws ToolError if a needed line is missing. */
export function parseH2loadOutput(output: string): Omit<H2loadResult, "command"> {
  const rate = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(output);
  const counts =
    /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
      output,
    );
  const statuses = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  const latency = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(output);
  if (!rate || !counts || !statuses || !latency) {
    throw new ToolError(`unexpected h2load output:\n${output.slice(-1500)}`);
  }
  return {
    requestsPerSecond: Number(rate[1]),
    succeeded: Number(counts[1]),
    failed: Number(counts[2]),
    errored: Number(counts[3]),
    non2xx: Number(statuses[2]) + Number(statuses[3]) + Number(statuses[4]),
    meanLatencyMs: toMs(latency[3] as string),
    maxLatencyMs: toMs(latency[2] as string),
  };
}

function toMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!match) throw new ToolError(`unexpected h2load duration ${JSON.stringify(text)}`);
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}
