import { type ClientHttp2Session, connect } from "node:http2";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { encodeFrame, FRAME_HEADER_BYTES } from "./frame.js";
import { GrpcCode, GrpcStatusError } from "./status.js";

/** The call failed before the server saw it: it certainly had no effect. */
export class CallNotSentError extends Error {
  readonly code = "CALL_NOT_SENT";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CallNotSentError";
  }
}

/** The connection broke or timed out after the request was sent: its effect is unknown. */
export class CallOutcomeUnknownError extends Error {
  readonly code = "CALL_OUTCOME_UNKNOWN";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CallOutcomeUnknownError";
  }
}

export interface UnaryClientOptions {
  /** Largest response message accepted. Default 16 MiB. */
  maxReceiveMessageBytes?: number;
  /** TLS material for https origins (a CA to trust, and a client certificate for mutual TLS). */
  tls?:
    | { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined }
    | undefined;
}

/**
 * A minimal gRPC unary client on node:http2 with one session per origin, reconnected on
 * demand. Errors tell apart "never reached the server" (CallNotSentError), "the server
 * answered with a status" (GrpcStatusError) and "unknown" (CallOutcomeUnknownError),
 * which a caller forwarding writes needs to decide whether a retry is safe.
 */
export class UnaryClient {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private readonly maxReceive: number;
  private readonly tls: UnaryClientOptions["tls"];
  private closed = false;

  constructor(options: UnaryClientOptions = {}) {
    this.maxReceive = options.maxReceiveMessageBytes ?? 16 * 1024 * 1024;
    this.tls = options.tls;
  }

  private session(origin: string): ClientHttp2Session {
    let session = this.sessions.get(origin);
    if (session === undefined || session.closed || session.destroyed) {
      session =
        origin.startsWith("https:") && this.tls !== undefined
          ? connect(origin, this.tls)
          : connect(origin);
      const s = session;
      s.on("error", () => {});
      s.on("close", () => {
        if (this.sessions.get(origin) === s) this.sessions.delete(origin);
      });
      s.unref();
      this.sessions.set(origin, s);
    }
    return session;
  }

  call<I extends DescMessage, O extends DescMessage>(
    origin: string,
    path: string,
    input: I,
    output: O,
    request: MessageShape<I>,
    timeoutMs: number,
  ): Promise<MessageShape<O>> {
    if (this.closed) return Promise.reject(new CallNotSentError("the client is closed"));
    const body = encodeFrame(toBinary(input, request));
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.session(origin);
      } catch (error) {
        reject(new CallNotSentError(`cannot connect to ${origin}`, { cause: error }));
        return;
      }
      const connected = !session.connecting;
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": `${Math.max(1, Math.ceil(timeoutMs))}m`,
      });
      let settled = false;
      let sent = connected;
      session.once("connect", () => {
        sent = true;
      });
      const chunks: Buffer[] = [];
      let received = 0;
      const finish = (error: Error | undefined, value?: MessageShape<O>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!stream.closed) stream.close();
        if (error) reject(error);
        else resolve(value as MessageShape<O>);
      };
      const timer = setTimeout(
        () =>
          finish(new CallOutcomeUnknownError(`no answer from ${origin} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      let headersStatus: string | undefined;
      stream.on("response", (headers) => {
        const status = headers["grpc-status"];
        if (status !== undefined) headersStatus = String(status);
        if (headers[":status"] !== 200) {
          finish(
            new GrpcStatusError(
              GrpcCode.UNAVAILABLE,
              `HTTP ${headers[":status"]} from ${origin}${path}`,
            ),
          );
        } else if (status !== undefined) {
          const message = decodeURIComponent(String(headers["grpc-message"] ?? ""));
          finish(
            Number(status) === 0
              ? new GrpcStatusError(GrpcCode.INTERNAL, "no response message")
              : new GrpcStatusError(Number(status) as GrpcCode, message),
          );
        }
      });
      stream.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.maxReceive + FRAME_HEADER_BYTES) {
          finish(
            new GrpcStatusError(
              GrpcCode.RESOURCE_EXHAUSTED,
              `response from ${origin} is too large`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on("trailers", (trailers) => {
        const status = Number(trailers["grpc-status"] ?? headersStatus ?? GrpcCode.UNKNOWN);
        if (status !== GrpcCode.OK) {
          const message = decodeURIComponent(String(trailers["grpc-message"] ?? ""));
          finish(new GrpcStatusError(status as GrpcCode, message));
          return;
        }
        const all = Buffer.concat(chunks);
        if (all.length < FRAME_HEADER_BYTES || all[0] !== 0) {
          finish(new GrpcStatusError(GrpcCode.INTERNAL, `malformed response from ${origin}`));
          return;
        }
        try {
          finish(
            undefined,
            fromBinary(
              output,
              all.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + all.readUInt32BE(1)),
            ),
          );
        } catch (error) {
          finish(
            new GrpcStatusError(
              GrpcCode.INTERNAL,
              `undecodable response from ${origin}: ${(error as Error).message}`,
            ),
          );
        }
      });
      stream.on("close", () => {
        if (settled) return;
        const cause = new Error(`stream closed with code ${stream.rstCode}`);
        finish(
          sent
            ? new CallOutcomeUnknownError(`connection to ${origin} lost`, { cause })
            : new CallNotSentError(`cannot reach ${origin}`, { cause }),
        );
      });
      stream.on("error", (error) => {
        finish(
          sent
            ? new CallOutcomeUnknownError(`call to ${origin} failed`, { cause: error })
            : new CallNotSentError(`cannot reach ${origin}`, { cause: error }),
        );
      });
      stream.end(body);
    });
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
