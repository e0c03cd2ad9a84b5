import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import { MalformedMessageError } from "./errors.js";
import { FrameDecoder } from "./grpc-frame.js";
import { decodeGrpcMessage, GrpcStatus } from "./grpc-status.js";

/** How a call ended: the peer's gRPC status, or a local/transport failure. */
export interface CallOutcome {
  status: number;
  message: string;
  /** Set when the call did not end with a status from the peer (connection lost, reset). */
  transportError?: Error;
}

export interface ClientCallOptions {
  session: ClientHttp2Session;
  /** The RPC path, e.g. "/raftkv.raft.v1.RaftService/Stream". */
  path: string;
  /** Extra request headers (lower-case names). */
  headers?: Record<string, string>;
  maxReceiveMessageBytes: number;
  /** Called for each response message; throwing cancels the call. */
  onMessage(bytes: Buffer): void;
}

/**
 * The client side of one gRPC call on a raw HTTP/2 stream. `outcome` settles exactly
 * once, when the call ends for any reason; it never rejects.
 */
export class GrpcClientCall {
  readonly stream: ClientHttp2Stream;
  readonly outcome: Promise<CallOutcome>;
  /** Set once response headers arrived and carried no status: the peer accepted the call. */
  accepted = false;
  private settle!: (outcome: CallOutcome) => void;
  private settled = false;
  private readonly decoder: FrameDecoder;

  constructor(options: ClientCallOptions) {
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.decoder = new FrameDecoder(options.maxReceiveMessageBytes);
    const stream = options.session.request(
      {
        ":method": "POST",
        ":path": options.path,
        "content-type": "application/grpc",
        te: "trailers",
        ...options.headers,
      },
      { endStream: false },
    );
    this.stream = stream;
    stream.on("response", (headers) => this.onResponse(headers));
    stream.on("trailers", (trailers) => this.onStatus(trailers));
    stream.on("data", (chunk: Buffer) => {
      if (this.settled) return;
      try {
        for (const message of this.decoder.push(chunk)) options.onMessage(message);
      } catch (error) {
        this.cancel(error instanceof Error ? error : new Error(String(error)));
      }
    });
    stream.on("error", (error) => this.fail(error));
    stream.on("close", () =>
      this.fail(
        new Error(`stream closed without a gRPC status (RST_STREAM code ${stream.rstCode})`),
      ),
    );
  }

  write(frame: Uint8Array): boolean {
    if (this.settled || this.stream.destroyed) return false;
    return this.stream.write(frame);
  }

  /** Half-closes: no more request messages. */
  end(): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
  }

  /** Abandons the call; `outcome` reports CANCELLED with `reason`. */
  cancel(reason: Error): void {
    this.fail(reason, GrpcStatus.CANCELLED);
    if (!this.stream.destroyed) this.stream.close();
  }

  get ended(): boolean {
    return this.settled;
  }

  private onResponse(headers: IncomingHttpHeaders): void {
    const httpStatus = Number(headers[":status"]);
    if (httpStatus !== 200) {
      this.fail(new MalformedMessageError(`peer answered HTTP ${httpStatus}, not a gRPC response`));
      return;
    }
    if (headers["grpc-status"] !== undefined) {
      this.onStatus(headers);
      return;
    }
    this.accepted = true;
  }

  private onStatus(headers: IncomingHttpHeaders): void {
    if (this.settled) return;
    const raw = headers["grpc-status"];
    const status = Number(Array.isArray(raw) ? raw[0] : raw);
    const rawMessage = headers["grpc-message"];
    const message = decodeGrpcMessage(
      (Array.isArray(rawMessage) ? rawMessage[0] : rawMessage) ?? "",
    );
    this.settled = true;
    this.settle({ status: Number.isInteger(status) ? status : GrpcStatus.UNKNOWN, message });
  }

  private fail(error: Error, status: number = GrpcStatus.UNAVAILABLE): void {
    if (this.settled) return;
    this.settled = true;
    this.settle({ status, message: error.message, transportError: error });
  }
}
