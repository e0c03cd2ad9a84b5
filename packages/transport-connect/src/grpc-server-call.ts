import { constants, type ServerHttp2Stream } from "node:http2";
import { encodeGrpcMessage, GrpcStatus } from "./grpc-status.js";

const GRPC_CONTENT_TYPE = "application/grpc";

/**
 * The server side of one gRPC call on a raw HTTP/2 stream: response headers, message
 * frames, and a status in trailers (or a trailers-only response for an early refusal).
 */
export class GrpcServerCall {
  private headersSent = false;
  private finished = false;
  private status: number = GrpcStatus.OK;
  private statusMessage = "";

  constructor(readonly stream: ServerHttp2Stream) {}

  /** True once `finish` was called or the stream went away. */
  get closed(): boolean {
    return this.finished || this.stream.destroyed;
  }

  /** Sends the response headers now, so the caller learns the call was accepted. */
  accept(): void {
    if (this.headersSent || this.closed) return;
    this.headersSent = true;
    this.stream.respond(
      { ":status": 200, "content-type": GRPC_CONTENT_TYPE },
      { waitForTrailers: true },
    );
    this.stream.once("wantTrailers", () => {
      const trailers: Record<string, string> = { "grpc-status": String(this.status) };
      if (this.statusMessage !== "")
        trailers["grpc-message"] = encodeGrpcMessage(this.statusMessage);
      this.stream.sendTrailers(trailers);
    });
  }

  /** Writes one framed message; false means the stream's buffer is full (wait for drain). */
  write(frame: Uint8Array): boolean {
    if (this.closed) return false;
    this.accept();
    return this.stream.write(frame);
  }

  /** Ends the call with `status` (trailers, or a trailers-only response if nothing was sent). */
  finish(status: number, message = ""): void {
    if (this.closed) return;
    this.finished = true;
    const stream = this.stream;
    if (!this.headersSent) {
      this.headersSent = true;
      const headers: Record<string, string | number> = {
        ":status": 200,
        "content-type": GRPC_CONTENT_TYPE,
        "grpc-status": String(status),
      };
      if (message !== "") headers["grpc-message"] = encodeGrpcMessage(message);
      stream.respond(headers, { endStream: true });
    } else {
      this.status = status;
      this.statusMessage = message;
      stream.end();
    }
    if (status !== GrpcStatus.OK) discardUntilPeerEnds(stream);
  }
}

// How long a refused caller may keep sending after our status before the stream is reset.
const REFUSED_STREAM_GRACE_MS = 5000;

/**
 * After a refusal, further request data is read and thrown away (a well-behaved caller
 * stops on seeing the status), and the stream is reset only if the caller keeps it open:
 * resetting at once could overtake the trailers that carry the status.
 */
function discardUntilPeerEnds(stream: ServerHttp2Stream): void {
  stream.resume();
  const timer = setTimeout(() => {
    if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
  }, REFUSED_STREAM_GRACE_MS);
  timer.unref();
  stream.once("close", () => clearTimeout(timer));
}

/** Refuses a request that is not gRPC at all with a plain HTTP status. */
export function refuseHttp(stream: ServerHttp2Stream, httpStatus: number): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ":status": httpStatus }, { endStream: true });
  discardUntilPeerEnds(stream);
}
