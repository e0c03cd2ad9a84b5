import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ClientPort, type ClientPortOptions } from "./client-port.js";
import {
  CALL_FIELDS,
  type FrontToMain,
  type FrontWorkerData,
  type MainToFront,
  packBatch,
  REPLY_FIELDS,
} from "./front-protocol.js";
import { GrpcCode, type GrpcStatusError } from "./status.js";
import { handleUnary, type UnaryCall, type UnaryRoute } from "./unary-server.js";

/** What the client front reports about itself. */
export interface FrontLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

const NO_HEADERS = {};

/**
 * The client port with its connections on a worker thread. The member's main thread runs
 * Raft, the store and the peer transport; with the client port beside them, serving
 * HTTP/2 streams took 35–40% of its time at 5,000 puts/s and capped throughput. The front
 * (front-worker.ts) owns the listener and the connections, serves the hot unary methods'
 * streams and gRPC framing, and sends their request bytes here in batches; the main
 * thread decodes, runs the handler and sends the reply bytes back. Everything else (the
 * Connect protocol, gRPC-web, other gRPC methods, HTTP/1.1 endpoints) is proxied to a
 * `ClientPort` the main thread serves on a Unix socket, so it behaves exactly as before.
 */
export class ClientFront {
  private readonly inner: ClientPort;
  private readonly hotPaths: string[];
  private readonly routes: UnaryRoute[];
  /** A directory only this user can enter, holding the Unix socket of `inner`. */
  private socketDir: string | undefined;
  private socketPath = "";
  private worker: Worker | undefined;
  private replies: { meta: number[]; messages: string[]; payloads: Uint8Array[] } | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: ClientPortOptions,
    private readonly logger: FrontLogger,
  ) {
    this.inner = new ClientPort({ ...options, tls: undefined });
    this.hotPaths = [...options.unaryRoutes.keys()];
    this.routes = this.hotPaths.map((path) => options.unaryRoutes.get(path) as UnaryRoute);
  }

  /**
   * Starts listening; resolves with the bound port. Rejects as `ClientPort.listen` does
   * (an Error with the system's `code`, e.g. EADDRINUSE).
   */
  async listen(host: string, port: number): Promise<number> {
    // The inner port trusts whoever connects (TLS and client certificates are checked by
    // the front), so its socket lives in a directory private to this user (mode 0700).
    this.socketDir = await mkdtemp(join(tmpdir(), "raftkv-client-"));
    this.socketPath = join(this.socketDir, "port.sock");
    await this.inner.listenPath(this.socketPath);
    const workerData: FrontWorkerData = {
      host,
      port,
      tls: this.options.tls,
      hotPaths: this.hotPaths,
      upstream: this.socketPath,
      maxReceiveMessageBytes: this.options.maxReceiveMessageBytes,
    };
    const worker = new Worker(workerEntry(), { workerData });
    this.worker = worker;
    try {
      return await new Promise<number>((resolve, reject) => {
        worker.on("message", (m: FrontToMain) => {
          if (m.kind === "calls") this.onCalls(m);
          else if (m.kind === "listening") resolve(m.port);
          else if (m.kind === "failed") {
            reject(Object.assign(new Error(m.message), { code: m.code }));
          }
        });
        worker.on("error", (err) => {
          this.logger.error({ err }, "client port worker failed");
          reject(err);
        });
        worker.on("exit", (code) => {
          if (this.closing === undefined) {
            this.logger.error(
              { code, host, port },
              "client port worker stopped; this port no longer serves clients",
            );
            reject(new Error(`client port worker exited with code ${code}`));
          }
        });
      });
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private onCalls(m: Extract<FrontToMain, { kind: "calls" }>): void {
    const bytes = new Uint8Array(m.bytes);
    const meta = m.meta;
    let start = 0;
    for (let at = 0; at < meta.length; at += CALL_FIELDS) {
      const id = meta[at] as number;
      const routeIndex = meta[at + 1] as number;
      const timeout = meta[at + 2] as number;
      const end = meta[at + 3] as number;
      const route = this.routes[routeIndex] as UnaryRoute;
      const path = this.hotPaths[routeIndex] as string;
      const call: UnaryCall = {
        timeoutMs: timeout < 0 ? undefined : timeout,
        headers: NO_HEADERS,
        cancelled: false,
        raw: bytes.subarray(start, end),
      };
      start = end;
      try {
        const result = handleUnary(route, call.raw as Uint8Array, call);
        if (result instanceof Promise) {
          result.then(
            (reply) => this.reply(id, path, reply),
            (error: unknown) => this.fail(id, path, this.options.toStatus(error)),
          );
        } else {
          this.reply(id, path, result);
        }
      } catch (error) {
        this.fail(id, path, this.options.toStatus(error));
      }
    }
  }

  private reply(id: number, path: string, payload: Uint8Array): void {
    this.options.onDone?.(path, GrpcCode.OK);
    this.queue(id, GrpcCode.OK, "", payload);
  }

  private fail(id: number, path: string, status: GrpcStatusError): void {
    this.options.onDone?.(path, status.status);
    this.queue(id, status.status, status.message, EMPTY);
  }

  private queue(id: number, status: number, message: string, payload: Uint8Array): void {
    if (this.replies === undefined) {
      this.replies = { meta: [], messages: [], payloads: [] };
      setImmediate(() => this.flushReplies());
    }
    this.replies.meta.push(id, status, 0);
    if (status !== GrpcCode.OK) this.replies.messages.push(message);
    this.replies.payloads.push(payload);
  }

  private flushReplies(): void {
    const r = this.replies;
    this.replies = undefined;
    if (r === undefined || this.worker === undefined) return;
    const { meta, bytes } = packBatch(r.meta, REPLY_FIELDS, r.payloads);
    const message: MainToFront = { kind: "replies", meta, bytes, messages: r.messages };
    this.worker.postMessage(message, [meta.buffer as ArrayBuffer, bytes]);
  }

  /** Stops accepting connections, closes the open ones and the worker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const worker = this.worker;
      if (worker !== undefined) {
        const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        const closed = new Promise<void>((resolve) =>
          worker.on("message", (m: FrontToMain) => m.kind === "closed" && resolve()),
        );
        worker.postMessage({ kind: "close" } satisfies MainToFront);
        await Promise.race([closed, exited, sleep(5_000)]);
        await worker.terminate();
      }
      await this.inner.close();
      if (this.socketDir !== undefined) await rm(this.socketDir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}

const EMPTY = new Uint8Array(0);

/** The worker's module: beside this one when built; from the build when sources run (tests). */
function workerEntry(): URL {
  const built = new URL("./front-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  return new URL("../../dist/grpc/front-worker.js", import.meta.url);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
