/** Length of the gRPC message prefix: a compressed flag and a 4-byte big-endian length. */
export const GRPC_PREFIX_BYTES = 5;

/** Frames one uncompressed gRPC message: `[0x00][length uint32 BE][message]`. */
export function frameGrpcMessage(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, GRPC_PREFIX_BYTES);
  return framed;
}

/**
 * The message of a unary response body, or a reason it is not exactly one uncompressed
 * message. Returns a view into `body`, no copy.
 */
export function unframeGrpcMessage(body: Uint8Array): Uint8Array | string {
  if (body.length < GRPC_PREFIX_BYTES) {
    return body.length === 0 ? "the response carried no message" : "truncated message prefix";
  }
  if (body[0] !== 0) return "compressed responses are not supported (no grpc-accept-encoding sent)";
  const length =
    (((body[1] as number) << 24) >>> 0) +
    ((body[2] as number) << 16) +
    ((body[3] as number) << 8) +
    (body[4] as number);
  if (GRPC_PREFIX_BYTES + length !== body.length) {
    return GRPC_PREFIX_BYTES + length > body.length
      ? "the response ended inside a message"
      : "a unary response carried more than one message";
  }
  return body.subarray(GRPC_PREFIX_BYTES);
}

/** Decodes a percent-encoded `grpc-message` value (gRPC over HTTP/2 spec); bad escapes stay as sent. */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
