import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { encodeFrame, UnaryMessageReader } from "./frame.js";
import { encodeGrpcMessage, GrpcCode, GrpcStatusError } from "./status.js";
import { parseGrpcTimeout } from "./timeout.js";

/** What a unary handler learns about its call. */
export interface UnaryCall {
  /** Milliseconds left before the client's grpc-timeout expires, or undefined for none. */
  readonly timeoutMs: number | undefined;
  readonly headers: IncomingHttpHeaders;
  /** True once the client has gone away (cancelled, reset or timed out). */
  readonly cancelled: boolean;
  /** The request message's protobuf bytes as received, for handlers that pass them on. */
  readonly raw: Uint8Array | undefined;
}

/** One unary method served on the lean gRPC path. */
export interface UnaryRoute<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> {
  readonly input: I;
  readonly output: O;
  handle(request: MessageShape<I>, call: UnaryCall): Promise<MessageShape<O>> | MessageShape<O>;
}

export interface UnaryServerOptions {
  /** Largest request message accepted, in bytes; larger ones get RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes: number;
  /** Turns a handler's error into a gRPC status; unknown errors become UNKNOWN. */
  toStatus(error: unknown): GrpcStatusError;
  /** Called once per call with the status it ended with (for metrics). */
  onDone?: ((path: string, status: GrpcCode) => void) | undefined;
}

class Call implements UnaryCall {
  cancelled = false;
  raw: Uint8Array | undefined = undefined;
  constructor(
    readonly timeoutMs: number | undefined,
    readonly headers: IncomingHttpHeaders,
  ) {}
}

function sendStatus(stream: ServerHttp2Stream, status: GrpcCode, message: string): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close();
    return;
  }
  // Trailers-only response: status in the single HEADERS frame that ends the stream.
  stream.respond(
    {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(status),
      "grpc-message": encodeGrpcMessage(message),
    },
    { endStream: true },
  );
}

// Shared by every reply: node:http2 copies headers before it uses them.
const OK_HEADERS = { ":status": 200, "content-type": "application/grpc" } as const;
const OK_TRAILERS = { "grpc-status": "0" } as const;
const WAIT_FOR_TRAILERS = { waitForTrailers: true } as const;

function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

function sendMessage(stream: ServerHttp2Stream, payload: Uint8Array): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond(OK_HEADERS, WAIT_FOR_TRAILERS);
  stream.once("wantTrailers", sendOkTrailers);
  stream.end(encodeFrame(payload));
}

/**
 * Serves one unary gRPC call on a bare HTTP/2 stream: reads the framed request,
 * decodes it with protobuf-es, runs the handler and writes the framed reply and the
 * status trailers. About a tenth of connect-node's per-call CPU (see ADR on the client
 * port), which is why the hot KV methods take this path.
 */
export function serveUnary(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  route: UnaryRoute,
  options: UnaryServerOptions,
): void {
  serveUnaryBytes(stream, headers, (raw, call) => handleUnary(route, raw, call), options);
}

/**
 * Decodes `raw` as the route's request, runs the handler and encodes its response. A
 * request that does not decode is a GrpcStatusError (INTERNAL, as grpc-go says it);
 * other errors are the handler's.
 */
export function handleUnary(
  route: UnaryRoute,
  raw: Uint8Array,
  call: UnaryCall,
): Promise<Uint8Array> | Uint8Array {
  let request: MessageShape<DescMessage>;
  try {
    request = fromBinary(route.input, raw);
  } catch (error) {
    throw new GrpcStatusError(
      GrpcCode.INTERNAL,
      `grpc: error unmarshalling request: ${(error as Error).message}`,
    );
  }
  const result = route.handle(request, call);
  return result instanceof Promise
    ? result.then((response) => toBinary(route.output, response))
    : toBinary(route.output, result);
}

/**
 * The framing half of `serveUnary`: reads the framed request (size limit, compression,
 * `grpc-timeout`), hands its bytes to `handle`, and writes the framed reply bytes and the
 * status trailers. Errors from `handle` go through `options.toStatus`.
 */
export function serveUnaryBytes(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  handle: (raw: Uint8Array, call: UnaryCall) => Promise<Uint8Array> | Uint8Array,
  options: UnaryServerOptions,
): void {
  const encoding = headers["grpc-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
    stream.respond(
      {
        ":status": 200,
        "content-type": "application/grpc",
        "grpc-status": String(GrpcCode.UNIMPLEMENTED),
        "grpc-message": encodeGrpcMessage(
          `grpc: compression "${String(encoding)}" is not supported`,
        ),
        "grpc-accept-encoding": "identity",
      },
      { endStream: true },
    );
    return;
  }
  let timeoutMs: number | undefined;
  try {
    timeoutMs = parseGrpcTimeout(headers["grpc-timeout"] as string | undefined);
  } catch (error) {
    sendStatus(stream, GrpcCode.INTERNAL, (error as Error).message);
    return;
  }
  const call = new Call(timeoutMs, headers);
  const path = headers[":path"] as string;
  const reader = new UnaryMessageReader(options.maxReceiveMessageBytes);
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  const fail = (error: GrpcStatusError): void => {
    if (settled) return;
    settled = true;
    call.cancelled = true;
    if (timer !== undefined) clearTimeout(timer);
    options.onDone?.(path, error.status);
    sendStatus(stream, error.status, error.message);
  };
  if (timeoutMs !== undefined) {
    timer = setTimeout(
      () => fail(new GrpcStatusError(GrpcCode.DEADLINE_EXCEEDED, "context deadline exceeded")),
      timeoutMs,
    );
  }
  stream.on("data", (chunk: Buffer) => {
    if (settled) return;
    try {
      reader.push(chunk);
    } catch (error) {
      fail(error as GrpcStatusError);
    }
  });
  stream.on("close", () => {
    call.cancelled = true;
    if (timer !== undefined) clearTimeout(timer);
  });
  stream.on("error", () => {
    call.cancelled = true;
  });
  stream.on("end", () => {
    if (settled) return;
    let result: Promise<Uint8Array> | Uint8Array;
    try {
      call.raw = reader.finish();
      result = handle(call.raw, call);
    } catch (error) {
      fail(error instanceof GrpcStatusError ? error : options.toStatus(error));
      return;
    }
    const reply = (payload: Uint8Array): void => {
      if (settled || call.cancelled) return;
      if (timer !== undefined) clearTimeout(timer);
      settled = true;
      options.onDone?.(path, GrpcCode.OK);
      sendMessage(stream, payload);
    };
    if (result instanceof Promise) {
      result.then(reply, (error: unknown) =>
        fail(error instanceof GrpcStatusError ? error : options.toStatus(error)),
      );
    } else {
      reply(result);
    }
  });
}
