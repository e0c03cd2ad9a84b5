import { connect as netConnect, type Socket } from "node:net";
import {
  type BenchError,
  CallTimeoutError,
  ConnectionClosedError,
  GrpcStatusError,
  Http2ProtocolError,
  InvalidOptionError,
  QueueFullError,
} from "./errors.js";
import { decodeGrpcMessage, frameGrpcMessage, unframeGrpcMessage } from "./grpc-message.js";
import { HpackDecoder } from "./hpack-decoder.js";
import { encodeHeaderBlock } from "./hpack-encoder.js";
import { StaticIndex } from "./hpack-static-table.js";
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  encodeFrame,
  encodeGoaway,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  Http2ErrorCode,
  MAX_WINDOW_SIZE,
  Setting,
  writeFrameHeader,
} from "./http2-frame.js";

/** Options of a GrpcUnaryConnection. */
export interface GrpcUnaryConnectionOptions {
  host: string;
  port: number;
  /** The `:authority` sent with every call. Default `host:port`. */
  authority?: string;
  /** Sent as `user-agent`. Default "raftkv-bench". */
  userAgent?: string;
  /** How long to wait for the TCP connection and the server's SETTINGS. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * A call with no response after this long is cancelled (RST_STREAM) and fails with
   * CallTimeoutError. Checked by a sweep, so it fires up to a quarter of it (at most 1 s)
   * late. 0 disables. Default 30000.
   */
  callTimeoutMs?: number;
  /**
   * Calls waiting for a stream because the server's SETTINGS_MAX_CONCURRENT_STREAMS is
   * reached. One more fails with QueueFullError. Default 65536.
   */
  maxQueuedCalls?: number;
  /** A response message larger than this fails the call (RESOURCE_EXHAUSTED). Default 4 MiB. */
  maxResponseBytes?: number;
  /** The connection-level receive window this side grants the server. Default 16 MiB. */
  connectionWindowBytes?: number;
}

/**
 * Called once per call: with the response message (a view, valid until the callback
 * returns; copy it to keep it) or with the error.
 */
export type UnaryCallback = (error: BenchError | null, response: Uint8Array | null) => void;

/** A method's request headers, encoded once and reused by every call. */
export interface PreparedMethod {
  readonly path: string;
  readonly headerBlock: Uint8Array;
}

class Call {
  streamId = 0;
  /** Request bytes not sent yet, when flow control or the stream limit held them back. */
  pendingBody: Uint8Array | null = null;
  sendWindow = 0;
  headersSeen = false;
  response: Buffer | null = null;
  done = false;

  constructor(
    readonly method: PreparedMethod,
    readonly callback: UnaryCallback,
    /** The connection's sweep tick when the call started. */
    readonly tick: number,
  ) {}
}

const OPEN = 0;
const DRAINING = 1;
const CLOSED = 2;

/**
 * A gRPC client for unary calls over one plaintext HTTP/2 connection (h2c with prior
 * knowledge), written on node:net rather than node:http2 so that a call costs a few
 * microseconds of CPU: node:http2 creates a Duplex stream per request and measured about
 * 90 µs of client CPU per unary call here, more than the server it was measuring. Calls
 * write one pre-encoded HEADERS frame and one DATA frame; frames of all calls started in
 * the same tick go out in one socket write.
 *
 * Supports what a unary client needs: flow control in both directions, CONTINUATION,
 * padding, SETTINGS, PING, GOAWAY and RST_STREAM, HPACK with Huffman coding. Not
 * supported: TLS, streaming methods, compressed messages. Protocol violations by the
 * server close the connection and fail every call with Http2ProtocolError.
 */
export class GrpcUnaryConnection {
  /**
   * Opens a connection and resolves once the server's first SETTINGS arrived. Rejects with
   * ConnectionClosedError if the server cannot be reached or does not speak HTTP/2 in
   * time, and with InvalidOptionError for bad options.
   */
  static connect(options: GrpcUnaryConnectionOptions): Promise<GrpcUnaryConnection> {
    const connection = new GrpcUnaryConnection(options);
    return connection.ready.then(() => connection);
  }

  readonly host: string;
  readonly port: number;
  private readonly authority: string;
  private readonly userAgent: string;
  private readonly maxQueuedCalls: number;
  private readonly maxResponseBytes: number;
  private readonly connectionWindowBytes: number;
  private readonly socket: Socket;
  private readonly decoder = new HpackDecoder();
  private readonly methods = new Map<string, PreparedMethod>();
  /** Open streams in the order they were opened, which is also the order calls started. */
  private readonly streams = new Map<number, Call>();
  private waiting: Call[] = [];
  private waitingHead = 0;
  private blocked: Call[] = [];
  private state = OPEN;
  private closeError: BenchError | null = null;
  private nextStreamId = 1;
  private peerMaxConcurrentStreams = Number.POSITIVE_INFINITY;
  private peerInitialWindow = DEFAULT_WINDOW_SIZE;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private sendWindow = DEFAULT_WINDOW_SIZE;
  private receivedUnacknowledged = 0;
  private leftover: Buffer | null = null;
  private headerStreamId = 0;
  private headerEndStream = false;
  private headerFragments: Buffer[] = [];
  private out: Buffer[] = [];
  private flushScheduled = false;
  private settingsReceived = false;
  private ticks = 0;
  private readonly timeoutTicks: number;
  private readonly sweepTimer: NodeJS.Timeout | null;
  private readonly ready: Promise<void>;
  private resolveReady: () => void = () => {};
  private rejectReady: (error: BenchError) => void = () => {};
  private readonly closed: Promise<void>;

  private constructor(options: GrpcUnaryConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.authority = options.authority ?? `${options.host}:${options.port}`;
    this.userAgent = options.userAgent ?? "raftkv-bench";
    this.maxQueuedCalls = positiveInteger("maxQueuedCalls", options.maxQueuedCalls ?? 65_536);
    this.maxResponseBytes = positiveInteger(
      "maxResponseBytes",
      options.maxResponseBytes ?? 4 * 1024 * 1024,
    );
    this.connectionWindowBytes = positiveInteger(
      "connectionWindowBytes",
      options.connectionWindowBytes ?? 16 * 1024 * 1024,
    );
    if (this.connectionWindowBytes > MAX_WINDOW_SIZE || this.connectionWindowBytes < 65_535) {
      throw new InvalidOptionError("connectionWindowBytes must be from 65535 to 2^31-1");
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
      throw new InvalidOptionError(`port must be 1–65535, got ${options.port}`);
    }
    const connectTimeoutMs = positiveInteger(
      "connectTimeoutMs",
      options.connectTimeoutMs ?? 10_000,
    );
    const callTimeoutMs = options.callTimeoutMs ?? 30_000;
    if (!Number.isInteger(callTimeoutMs) || callTimeoutMs < 0) {
      throw new InvalidOptionError(
        `callTimeoutMs must be a whole number ≥ 0, got ${callTimeoutMs}`,
      );
    }
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(callTimeoutMs / 4)));
    this.timeoutTicks = Math.ceil(callTimeoutMs / sweepMs);

    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A rejected ready is reported through connect(); this keeps an unobserved rejection
    // (a connection that fails after it was ready) from crashing the process.
    this.ready.catch(() => {});

    this.socket = netConnect({ host: options.host, port: options.port, noDelay: true });
    this.closed = new Promise((resolve) => this.socket.once("close", () => resolve()));
    const connectTimer = setTimeout(() => {
      this.destroy(
        new ConnectionClosedError(
          `no HTTP/2 SETTINGS from ${this.authority} within ${connectTimeoutMs} ms`,
        ),
      );
    }, connectTimeoutMs);
    this.ready.then(
      () => clearTimeout(connectTimer),
      () => clearTimeout(connectTimer),
    );
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (error) => {
      this.destroy(
        new ConnectionClosedError(`connection to ${this.authority} failed: ${error.message}`, {
          cause: error,
        }),
      );
    });
    this.socket.on("close", () => {
      this.destroy(new ConnectionClosedError(`connection to ${this.authority} closed`));
    });
    this.socket.write(
      Buffer.concat([
        CLIENT_PREFACE,
        encodeSettings([
          [Setting.ENABLE_PUSH, 0],
          [Setting.INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE],
        ]),
        encodeWindowUpdate(0, this.connectionWindowBytes - DEFAULT_WINDOW_SIZE),
      ]),
    );
    this.sweepTimer =
      callTimeoutMs > 0 ? setInterval(() => this.sweepTimeouts(), sweepMs).unref() : null;
  }

  /** Calls started and not finished, including those waiting for a stream. */
  get activeCalls(): number {
    return this.streams.size + this.waiting.length - this.waitingHead;
  }

  /** Encodes the request headers of method `path` ("/package.Service/Method") once. */
  prepare(path: string): PreparedMethod {
    let method = this.methods.get(path);
    if (!method) {
      if (!/^\/[^/\s]+\/[^/\s]+$/.test(path)) {
        throw new InvalidOptionError(`not a gRPC method path: ${JSON.stringify(path)}`);
      }
      method = {
        path,
        headerBlock: encodeHeaderBlock([
          { index: StaticIndex.methodPost },
          { index: StaticIndex.schemeHttp },
          { nameIndex: StaticIndex.path, value: path },
          { nameIndex: StaticIndex.authority, value: this.authority },
          { nameIndex: StaticIndex.contentType, value: "application/grpc" },
          { name: "te", value: "trailers" },
          { nameIndex: StaticIndex.userAgent, value: this.userAgent },
        ]),
      };
      this.methods.set(path, method);
    }
    return method;
  }

  /**
   * Starts a unary call. `framedRequest` is the gRPC-framed request (5-byte prefix and
   * message); it is copied before this returns, so the caller may reuse its buffer. The
   * callback runs exactly once, never synchronously.
   */
  call(method: PreparedMethod, framedRequest: Uint8Array, callback: UnaryCallback): void {
    const call = new Call(method, callback, this.ticks);
    if (this.state !== OPEN) {
      const error =
        this.closeError ??
        new ConnectionClosedError(`connection to ${this.authority} is closing (GOAWAY)`);
      process.nextTick(() => callback(error, null));
      return;
    }
    if (this.streams.size >= this.peerMaxConcurrentStreams) {
      if (this.waiting.length - this.waitingHead >= this.maxQueuedCalls) {
        process.nextTick(() =>
          callback(
            new QueueFullError(
              `${this.maxQueuedCalls} calls already wait for a stream on ${this.authority}`,
            ),
            null,
          ),
        );
        return;
      }
      call.pendingBody = Uint8Array.from(framedRequest);
      this.waiting.push(call);
      return;
    }
    this.open(call, framedRequest);
  }

  /** Promise form of call(): frames `message`, resolves with the response message (a copy). */
  unary(path: string, message: Uint8Array): Promise<Uint8Array> {
    const method = this.prepare(path);
    return new Promise((resolve, reject) => {
      this.call(method, frameGrpcMessage(message), (error, response) => {
        if (error) reject(error);
        else resolve(Uint8Array.from(response as Uint8Array));
      });
    });
  }

  /**
   * Closes the connection: sends GOAWAY, fails calls still in flight with
   * ConnectionClosedError and resolves once the socket is closed. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state !== CLOSED) {
      this.enqueue(encodeGoaway(0, Http2ErrorCode.NO_ERROR));
      this.flush();
      this.socket.end();
      this.destroy(
        new ConnectionClosedError(`connection to ${this.authority} closed by the client`),
        false,
      );
    }
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private open(call: Call, body: Uint8Array): void {
    if (this.nextStreamId > 0x7fff_ffff) {
      const error = new ConnectionClosedError(
        "stream ids exhausted on this connection; open a new one",
      );
      // Callbacks never run inside call().
      process.nextTick(() => this.finish(call, error, null));
      return;
    }
    call.streamId = this.nextStreamId;
    this.nextStreamId += 2;
    call.sendWindow = this.peerInitialWindow;
    this.streams.set(call.streamId, call);
    const block = call.method.headerBlock;
    const fits =
      body.length <= this.sendWindow &&
      body.length <= call.sendWindow &&
      body.length <= this.peerMaxFrameSize;
    if (fits) {
      // The common case: HEADERS and the whole request in one DATA frame, one allocation.
      const frame = Buffer.allocUnsafe(2 * FRAME_HEADER_BYTES + block.length + body.length);
      writeFrameHeader(frame, 0, block.length, FrameType.HEADERS, Flag.END_HEADERS, call.streamId);
      frame.set(block, FRAME_HEADER_BYTES);
      const dataAt = FRAME_HEADER_BYTES + block.length;
      writeFrameHeader(frame, dataAt, body.length, FrameType.DATA, Flag.END_STREAM, call.streamId);
      frame.set(body, dataAt + FRAME_HEADER_BYTES);
      this.sendWindow -= body.length;
      call.sendWindow -= body.length;
      this.enqueue(frame);
      call.pendingBody = null;
      return;
    }
    this.enqueue(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, call.streamId, block));
    // A waiting call's body is already a private copy; a fresh call's belongs to the caller.
    call.pendingBody = call.pendingBody === body ? body : Uint8Array.from(body);
    this.blocked.push(call);
    this.sendBlocked();
  }

  /**
   * Sends as much held-back request data as the flow-control windows allow, round-robin
   * one frame per call so that one large request cannot starve the others.
   */
  private sendBlocked(): void {
    if (this.blocked.length === 0) return;
    let progressed = true;
    while (progressed && this.sendWindow > 0) {
      progressed = false;
      for (const call of this.blocked) {
        const body = call.pendingBody;
        if (call.done || !body) continue;
        const n = Math.min(body.length, this.sendWindow, call.sendWindow, this.peerMaxFrameSize);
        if (n <= 0) continue;
        const last = n === body.length;
        this.enqueue(
          encodeFrame(
            FrameType.DATA,
            last ? Flag.END_STREAM : 0,
            call.streamId,
            body.subarray(0, n),
          ),
        );
        this.sendWindow -= n;
        call.sendWindow -= n;
        call.pendingBody = last ? null : body.subarray(n);
        progressed = true;
      }
    }
    this.blocked = this.blocked.filter((c) => !c.done && c.pendingBody);
  }

  private enqueue(frame: Buffer): void {
    this.out.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.socket.destroyed) {
      this.out = [];
      return;
    }
    const frames = this.out;
    this.out = [];
    this.socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.leftover) {
      buf = Buffer.concat([this.leftover, chunk]);
      this.leftover = null;
    }
    let pos = 0;
    while (buf.length - pos >= FRAME_HEADER_BYTES && this.state !== CLOSED) {
      const length =
        ((buf[pos] as number) << 16) | ((buf[pos + 1] as number) << 8) | (buf[pos + 2] as number);
      if (length > DEFAULT_MAX_FRAME_SIZE) {
        this.protocolError(
          Http2ErrorCode.FRAME_SIZE_ERROR,
          `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${DEFAULT_MAX_FRAME_SIZE}`,
        );
        return;
      }
      if (buf.length - pos - FRAME_HEADER_BYTES < length) break;
      const type = buf[pos + 3] as number;
      const flags = buf[pos + 4] as number;
      const streamId = buf.readUInt32BE(pos + 5) & 0x7fff_ffff;
      const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
      pos += FRAME_HEADER_BYTES + length;
      this.onFrame(type, flags, streamId, payload);
    }
    if (pos < buf.length && this.state !== CLOSED) this.leftover = buf.subarray(pos);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (!this.settingsReceived && type !== FrameType.SETTINGS) {
      this.protocolError(
        Http2ErrorCode.PROTOCOL_ERROR,
        "the server preface must start with SETTINGS",
      );
      return;
    }
    if (this.headerStreamId !== 0 && type !== FrameType.CONTINUATION) {
      this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "expected CONTINUATION");
      return;
    }
    switch (type) {
      case FrameType.DATA:
        this.onDataFrame(flags, streamId, payload);
        return;
      case FrameType.HEADERS:
        this.onHeadersFrame(flags, streamId, payload);
        return;
      case FrameType.CONTINUATION:
        if (streamId === 0 || streamId !== this.headerStreamId) {
          this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
          return;
        }
        this.headerFragments.push(Buffer.from(payload));
        if (flags & Flag.END_HEADERS) {
          const block = Buffer.concat(this.headerFragments);
          this.headerFragments = [];
          this.headerStreamId = 0;
          this.onHeaderBlock(streamId, block, this.headerEndStream);
        }
        return;
      case FrameType.RST_STREAM:
        this.onRstStream(streamId, payload);
        return;
      case FrameType.SETTINGS:
        this.onSettings(flags, streamId, payload);
        return;
      case FrameType.PUSH_PROMISE:
        this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE although push is disabled");
        return;
      case FrameType.PING:
        if (streamId !== 0 || payload.length !== 8) {
          this.protocolError(Http2ErrorCode.FRAME_SIZE_ERROR, "malformed PING");
          return;
        }
        if (!(flags & Flag.ACK)) this.enqueue(encodeFrame(FrameType.PING, Flag.ACK, 0, payload));
        return;
      case FrameType.GOAWAY:
        this.onGoaway(streamId, payload);
        return;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(streamId, payload);
        return;
      default:
        // PRIORITY and unknown frame types carry nothing a unary client needs (§5.5).
        return;
    }
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) {
      this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
      return;
    }
    // Flow control counts the whole frame, padding included (§6.9.1).
    this.receivedUnacknowledged += payload.length;
    if (this.receivedUnacknowledged >= this.connectionWindowBytes / 2) {
      this.enqueue(encodeWindowUpdate(0, this.receivedUnacknowledged));
      this.receivedUnacknowledged = 0;
    }
    const data = this.unpad(flags, payload);
    if (!data) return;
    const call = this.streams.get(streamId);
    if (!call) return;
    if (!call.headersSeen) {
      this.resetCall(call, new GrpcStatusError(13, "server sent DATA before response headers"));
      return;
    }
    if (data.length > 0) {
      call.response = call.response ? Buffer.concat([call.response, data]) : data;
      if (call.response.length > this.maxResponseBytes + 5) {
        this.resetCall(
          call,
          new GrpcStatusError(
            8,
            `response larger than maxResponseBytes (${this.maxResponseBytes})`,
          ),
        );
        return;
      }
    }
    if (flags & Flag.END_STREAM) {
      this.finish(call, new GrpcStatusError(13, "server ended the stream without trailers"), null);
    }
  }

  private onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) {
      this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
      return;
    }
    let start = 0;
    let padding = 0;
    if (flags & Flag.PADDED) {
      padding = payload[0] ?? 0;
      start = 1;
    }
    if (flags & Flag.PRIORITY) start += 5;
    if (start + padding > payload.length) {
      this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "HEADERS padding exceeds the frame");
      return;
    }
    const fragment = payload.subarray(start, payload.length - padding);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) {
      this.onHeaderBlock(streamId, fragment, endStream);
    } else {
      this.headerStreamId = streamId;
      this.headerEndStream = endStream;
      this.headerFragments = [Buffer.from(fragment)];
    }
  }

  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    let headers: string[];
    try {
      headers = this.decoder.decode(block);
    } catch (error) {
      this.protocolError(
        Http2ErrorCode.COMPRESSION_ERROR,
        `cannot decode response headers: ${(error as Error).message}`,
        error,
      );
      return;
    }
    const call = this.streams.get(streamId);
    if (!call) return;
    if (!call.headersSeen) {
      call.headersSeen = true;
      const httpStatus = header(headers, ":status");
      const grpcStatus = header(headers, "grpc-status");
      if (httpStatus !== "200" && grpcStatus === null) {
        this.resetCall(
          call,
          new GrpcStatusError(
            httpStatusToGrpc(httpStatus),
            `HTTP status ${httpStatus ?? "missing"}`,
          ),
        );
        return;
      }
      const contentType = header(headers, "content-type");
      if (contentType === null || !contentType.startsWith("application/grpc")) {
        this.resetCall(
          call,
          new GrpcStatusError(13, `response content-type ${contentType ?? "missing"} is not gRPC`),
        );
        return;
      }
      if (endStream) this.onTrailers(call, headers);
      return;
    }
    if (!endStream) {
      this.resetCall(call, new GrpcStatusError(13, "trailers did not end the stream"));
      return;
    }
    this.onTrailers(call, headers);
  }

  private onTrailers(call: Call, trailers: string[]): void {
    const status = header(trailers, "grpc-status");
    if (status === null) {
      this.finish(call, new GrpcStatusError(13, "response carried no grpc-status"), null);
      return;
    }
    if (status !== "0") {
      const code = Number(status);
      this.finish(
        call,
        new GrpcStatusError(
          Number.isInteger(code) ? code : 2,
          decodeGrpcMessage(header(trailers, "grpc-message") ?? ""),
        ),
        null,
      );
      return;
    }
    const message = unframeGrpcMessage(call.response ?? Buffer.alloc(0));
    if (typeof message === "string") {
      this.finish(call, new GrpcStatusError(13, message), null);
      return;
    }
    this.finish(call, null, message);
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0 || payload.length !== 4) {
      this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "malformed RST_STREAM");
      return;
    }
    const call = this.streams.get(streamId);
    if (!call) return;
    const errorCode = payload.readUInt32BE(0);
    // REFUSED_STREAM (7) promises the request was not processed: gRPC's UNAVAILABLE.
    const status = errorCode === 7 ? 14 : errorCode === Http2ErrorCode.CANCEL ? 1 : 13;
    this.finish(
      call,
      new GrpcStatusError(status, `stream reset by the server (HTTP/2 error ${errorCode})`),
      null,
    );
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0 || payload.length % 6 !== 0 || (flags & Flag.ACK && payload.length > 0)) {
      this.protocolError(Http2ErrorCode.FRAME_SIZE_ERROR, "malformed SETTINGS");
      return;
    }
    if (flags & Flag.ACK) return;
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.MAX_CONCURRENT_STREAMS) {
        this.peerMaxConcurrentStreams = value;
      } else if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_SIZE) {
          this.protocolError(
            Http2ErrorCode.FLOW_CONTROL_ERROR,
            "SETTINGS_INITIAL_WINDOW_SIZE too large",
          );
          return;
        }
        // A new initial window shifts every open stream's window by the difference (§6.9.2).
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const call of this.streams.values()) call.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 16_777_215) {
          this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
          return;
        }
        this.peerMaxFrameSize = value;
      }
    }
    this.enqueue(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    if (!this.settingsReceived) {
      this.settingsReceived = true;
      this.resolveReady();
    }
    this.sendBlocked();
    this.startWaiting();
  }

  private onGoaway(streamId: number, payload: Buffer): void {
    if (streamId !== 0 || payload.length < 8) {
      this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "malformed GOAWAY");
      return;
    }
    const lastStreamId = payload.readUInt32BE(0) & 0x7fff_ffff;
    const errorCode = payload.readUInt32BE(4);
    const debug = payload.subarray(8).toString("utf8");
    const reason = `server sent GOAWAY (error ${errorCode}${debug ? `: ${debug}` : ""})`;
    if (this.state === OPEN) this.state = DRAINING;
    this.closeError = new ConnectionClosedError(
      `${reason}; connection to ${this.authority} is closing`,
    );
    // Streams above lastStreamId were not processed and are safe to retry (§6.8).
    for (const call of [...this.streams.values()]) {
      if (call.streamId > lastStreamId) {
        this.finish(call, new ConnectionClosedError(`${reason}; the call was not processed`), null);
      }
    }
    this.failWaiting(this.closeError);
    if (this.streams.size === 0) this.socket.end();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) {
      this.protocolError(Http2ErrorCode.FRAME_SIZE_ERROR, "malformed WINDOW_UPDATE");
      return;
    }
    const increment = payload.readUInt32BE(0) & 0x7fff_ffff;
    if (streamId === 0) {
      if (increment === 0 || this.sendWindow + increment > MAX_WINDOW_SIZE) {
        this.protocolError(Http2ErrorCode.FLOW_CONTROL_ERROR, "bad connection WINDOW_UPDATE");
        return;
      }
      this.sendWindow += increment;
    } else {
      const call = this.streams.get(streamId);
      if (!call) return;
      if (increment === 0 || call.sendWindow + increment > MAX_WINDOW_SIZE) {
        this.resetCall(call, new GrpcStatusError(13, "bad stream WINDOW_UPDATE"));
        return;
      }
      call.sendWindow += increment;
    }
    this.sendBlocked();
  }

  private unpad(flags: number, payload: Buffer): Buffer | null {
    if (!(flags & Flag.PADDED)) return payload;
    const padding = payload[0] ?? 0;
    if (payload.length === 0 || padding >= payload.length) {
      this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "DATA padding exceeds the frame");
      return null;
    }
    return payload.subarray(1, payload.length - padding);
  }

  /** Fails one call and tells the server to stop sending on its stream. */
  private resetCall(call: Call, error: BenchError): void {
    this.enqueue(encodeRstStream(call.streamId, Http2ErrorCode.CANCEL));
    this.finish(call, error, null);
  }

  private finish(call: Call, error: BenchError | null, response: Uint8Array | null): void {
    if (call.done) return;
    call.done = true;
    if (call.streamId !== 0) this.streams.delete(call.streamId);
    try {
      call.callback(error, response);
    } catch (thrown) {
      // A throwing callback must not corrupt the frame parser; surface it as uncaught.
      queueMicrotask(() => {
        throw thrown;
      });
    }
    if (this.state === OPEN) this.startWaiting();
    else if (this.state === DRAINING && this.streams.size === 0) this.socket.end();
  }

  private startWaiting(): void {
    while (
      this.waitingHead < this.waiting.length &&
      this.streams.size < this.peerMaxConcurrentStreams &&
      this.state === OPEN
    ) {
      const call = this.waiting[this.waitingHead] as Call;
      this.waitingHead += 1;
      if (!call.done) this.open(call, call.pendingBody as Uint8Array);
    }
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    }
  }

  private failWaiting(error: BenchError): void {
    const waiting = this.waiting.slice(this.waitingHead);
    this.waiting = [];
    this.waitingHead = 0;
    for (const call of waiting) this.finish(call, error, null);
  }

  private sweepTimeouts(): void {
    this.ticks += 1;
    const expired = this.ticks - this.timeoutTicks;
    // Streams and waiting calls are both in start order, so the scan stops at the first
    // call that is still young.
    for (const call of this.streams.values()) {
      if (call.tick > expired) break;
      this.resetCall(call, new CallTimeoutError(`no response from ${this.authority} in time`));
    }
    while (this.waitingHead < this.waiting.length) {
      const call = this.waiting[this.waitingHead] as Call;
      if (call.tick > expired) break;
      this.waitingHead += 1;
      this.finish(
        call,
        new CallTimeoutError(`no stream became free on ${this.authority} in time`),
        null,
      );
    }
  }

  private protocolError(code: number, message: string, cause?: unknown): void {
    this.enqueue(encodeGoaway(0, code, message));
    this.flush();
    this.destroy(new Http2ProtocolError(`${this.authority}: ${message}`, { cause }));
  }

  private destroy(error: BenchError, destroySocket = true): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.closeError = error;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.rejectReady(error);
    for (const call of [...this.streams.values()]) this.finish(call, error, null);
    this.failWaiting(error);
    this.blocked = [];
    if (destroySocket) this.socket.destroy();
  }
}

function header(headers: string[], name: string): string | null {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1] as string;
  }
  return null;
}

/** gRPC's mapping of HTTP statuses for responses without grpc-status. */
function httpStatusToGrpc(status: string | null): number {
  switch (status) {
    case "400":
      return 13;
    case "401":
      return 16;
    case "403":
      return 7;
    case "404":
      return 12;
    case "429":
    case "502":
    case "503":
    case "504":
      return 14;
    default:
      return 2;
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a whole number ≥ 1, got ${value}`);
  }
  return value;
}
