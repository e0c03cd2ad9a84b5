import { GrpcCode, GrpcStatusError } from "./status.js";

/** Length of the gRPC message prefix: one flag byte and a 4-byte big-endian length. */
export const FRAME_HEADER_BYTES = 5;

/** Frames one message: `[0x00][length, big-endian uint32][message]`. */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Collects the one request message of a unary call from DATA chunks. Enforces the
 * receive limit as soon as the length prefix is known, before buffering the body, so an
 * oversized request costs no memory.
 */
export class UnaryMessageReader {
  private chunks: Buffer[] = [];
  private received = 0;
  private expected = -1;

  constructor(private readonly maxMessageBytes: number) {}

  /** Adds a chunk; throws GrpcStatusError for compressed or oversized messages. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.byteLength;
    if (this.expected < 0 && this.received >= FRAME_HEADER_BYTES) {
      const head = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
      if (head[0] !== 0) {
        throw new GrpcStatusError(
          GrpcCode.UNIMPLEMENTED,
          "grpc: compressed messages are not supported; send grpc-encoding identity",
        );
      }
      const length = head.readUInt32BE(1);
      if (length > this.maxMessageBytes) {
        throw new GrpcStatusError(
          GrpcCode.RESOURCE_EXHAUSTED,
          `grpc: received message larger than max (${length} vs. ${this.maxMessageBytes})`,
        );
      }
      this.expected = FRAME_HEADER_BYTES + length;
    }
    if (this.expected >= 0 && this.received > this.expected) {
      throw new GrpcStatusError(
        GrpcCode.UNIMPLEMENTED,
        "grpc: a unary method received more than one request message",
      );
    }
  }

  /** The message bytes once the stream has ended; throws if it ended early. */
  finish(): Uint8Array {
    if (this.expected < 0 || this.received !== this.expected) {
      throw new GrpcStatusError(
        GrpcCode.INTERNAL,
        this.received === 0
          ? "grpc: the request carried no message"
          : "grpc: the request ended inside a message",
      );
    }
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    return all.subarray(FRAME_HEADER_BYTES, this.expected);
  }
}
