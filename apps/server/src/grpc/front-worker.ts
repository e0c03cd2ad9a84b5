// The client front's worker thread (see client-front.ts): owns the client port's
// listener and connections, serves the hot unary gRPC methods' HTTP/2 streams and framing
// here, and passes their message bytes to the main thread in batches. Everything else is
// proxied to the main thread's own client port over a Unix socket: HTTP/1.1 connections
// byte for byte, other HTTP/2 streams one by one over an internal HTTP/2 connection.
import {
  type ClientHttp2Session,
  connect as connectHttp2,
  constants,
  createServer as createHttp2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { connect as connectNet, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { CLIENT_H2_OPTIONS, ClientListener, isGrpc, leanRoute } from "./connection.js";
import {
  CALL_FIELDS,
  type FrontToMain,
  type FrontWorkerData,
  type MainToFront,
  packBatch,
  REPLY_FIELDS,
} from "./front-protocol.js";
import { GrpcCode, GrpcStatusError } from "./status.js";
import { serveUnaryBytes } from "./unary-server.js";

const port = parentPort;
if (port === null) throw new Error("front-worker.js runs as a worker thread");
const data = workerData as FrontWorkerData;
const post = (message: FrontToMain, transfer?: ArrayBuffer[]): void =>
  port.postMessage(message, transfer ?? []);

const hot = new Map(data.hotPaths.map((path, i) => [path, i]));

// ---------------------------------------------------------------- calls to the main thread

interface Waiting {
  resolve(reply: Uint8Array): void;
  reject(error: Error): void;
}
const waiting = new Map<number, Waiting>();
let nextId = 1;
let batch: { meta: number[]; messages: Uint8Array[] } | undefined;

function flushCalls(): void {
  const b = batch;
  batch = undefined;
  if (b === undefined) return;
  const { meta, bytes } = packBatch(b.meta, CALL_FIELDS, b.messages);
  post({ kind: "calls", meta, bytes }, [meta.buffer as ArrayBuffer, bytes]);
}

function callMain(route: number, raw: Uint8Array, timeoutMs: number | undefined) {
  const id = nextId++;
  if (batch === undefined) {
    batch = { meta: [], messages: [] };
    setImmediate(flushCalls);
  }
  batch.meta.push(id, route, timeoutMs ?? -1, 0);
  batch.messages.push(raw);
  return new Promise<Uint8Array>((resolve, reject) => waiting.set(id, { resolve, reject }));
}

function onReplies(m: Extract<MainToFront, { kind: "replies" }>): void {
  const bytes = new Uint8Array(m.bytes);
  const meta = m.meta;
  let start = 0;
  let failures = 0;
  for (let at = 0; at < meta.length; at += REPLY_FIELDS) {
    const id = meta[at] as number;
    const status = meta[at + 1] as number;
    const end = meta[at + 2] as number;
    const w = waiting.get(id);
    waiting.delete(id);
    if (status === GrpcCode.OK) {
      w?.resolve(bytes.subarray(start, end));
    } else {
      w?.reject(new GrpcStatusError(status as GrpcCode, m.messages[failures] ?? ""));
      failures++;
    }
    start = end;
  }
}

const unaryOptions = {
  maxReceiveMessageBytes: data.maxReceiveMessageBytes,
  toStatus: (error: unknown) =>
    error instanceof GrpcStatusError
      ? error
      : new GrpcStatusError(GrpcCode.INTERNAL, (error as Error).message),
};

// ---------------------------------------------------------------- proxy to the main thread

let upstream: ClientHttp2Session | undefined;

function upstreamSession(): ClientHttp2Session {
  if (upstream === undefined || upstream.closed || upstream.destroyed) {
    const session = connectHttp2("http://raftkv.front", {
      createConnection: () => connectNet(data.upstream),
    });
    session.on("error", () => {});
    session.on("close", () => {
      if (upstream === session) upstream = undefined;
    });
    upstream = session;
  }
  return upstream;
}

/** Passes one HTTP/2 stream to the main thread's client port and its answer back. */
function proxyStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name !== ":scheme" && value !== undefined) out[name] = value;
  }
  const up = upstreamSession().request(out);
  let trailers: IncomingHttpHeaders | undefined;
  stream.on("error", () => {});
  up.on("error", () => {
    if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  });
  stream.on("close", () => {
    if (!up.destroyed) up.close(constants.NGHTTP2_CANCEL);
  });
  up.on("response", (response) => {
    if (stream.destroyed) return;
    if (response["grpc-status"] !== undefined) {
      // A gRPC trailers-only response: the status is in the only HEADERS frame.
      stream.respond(response, { endStream: true });
      return;
    }
    const grpc = isGrpc(response["content-type"] as string | undefined);
    stream.respond(response, { waitForTrailers: grpc });
    up.pipe(stream);
  });
  up.on("trailers", (t) => {
    trailers = t;
  });
  stream.on("wantTrailers", () => {
    stream.sendTrailers(
      trailers ?? {
        "grpc-status": String(GrpcCode.INTERNAL),
        "grpc-message": "the member ended the call without a status",
      },
    );
  });
  stream.pipe(up);
}

/** Passes a whole HTTP/1.1 connection to the main thread's client port. */
function proxyConnection(socket: Socket): void {
  const up = connectNet(data.upstream);
  const done = (): void => {
    socket.destroy();
    up.destroy();
  };
  socket.on("close", done);
  up.on("close", done);
  up.on("error", done);
  socket.pipe(up);
  up.pipe(socket);
}

// ---------------------------------------------------------------- the listener

const h2 = createHttp2Server(CLIENT_H2_OPTIONS);
h2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
  const route = leanRoute(hot, headers);
  if (route !== undefined) {
    serveUnaryBytes(
      stream,
      headers,
      (raw, call) => callMain(route, raw, call.timeoutMs),
      unaryOptions,
    );
    return;
  }
  proxyStream(stream, headers);
});
h2.on("sessionError", () => {});

const listener = new ClientListener(
  data.tls,
  (socket) => h2.emit("connection", socket),
  proxyConnection,
);
listener.listen(data.host, data.port).then(
  (bound) => post({ kind: "listening", port: bound }),
  (err: NodeJS.ErrnoException) => post({ kind: "failed", message: err.message, code: err.code }),
);

port.on("message", (m: MainToFront) => {
  if (m.kind === "replies") {
    onReplies(m);
    return;
  }
  void listener.close().then(() => {
    upstream?.close();
    post({ kind: "closed" });
    port.close();
  });
  const closed = new GrpcStatusError(GrpcCode.UNAVAILABLE, "the member is shutting down");
  for (const w of waiting.values()) w.reject(closed);
  waiting.clear();
});
