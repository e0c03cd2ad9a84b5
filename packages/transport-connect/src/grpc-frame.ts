import { MalformedMessageError, MessageTooLargeError } from "./errors.js";

/** Length of the gRPC message prefix: one flag byte and a 4-byte big-endian length. */
export const FRAME_PREFIX_BYTES = 5;

/** Writes the prefix of a `length`-byte uncompressed message at `offset` of `target`. */
export function writeFramePrefix(target: Uint8Array, offset: number, length: number): void {
  target[offset] = 0;
  target[offset + 1] = length >>> 24;
  target[offset + 2] = (length >>> 16) & 0xff;
  target[offset + 3] = (length >>> 8) & 0xff;
  target[offset + 4] = length & 0xff;
}

/** Frames one message: the 5-byte prefix followed by the message. */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + message.byteLength);
  writeFramePrefix(frame, 0, message.byteLength);
  frame.set(message, FRAME_PREFIX_BYTES);
  return frame;
}

/**
 * Cuts a byte stream (HTTP/2 DATA payloads) into gRPC messages. The size limit is checked
 * as soon as a prefix is read, before any of the body is buffered, so an oversized or
 * garbage length costs no memory. A message split over many chunks is joined once, when
 * its last byte arrives, so large messages cost linear time.
 */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  // Bytes that must be held before parsing can make progress: 5 for a prefix, or the
  // whole frame once its prefix is known.
  private needed = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /**
   * Adds a chunk and returns the messages it completes, as views into the received bytes.
   * Throws MessageTooLargeError or MalformedMessageError; after a throw the decoder must
   * not be used again.
   */
  push(chunk: Buffer): Buffer[] {
    let data = chunk;
    if (this.partsBytes > 0) {
      this.parts.push(chunk);
      this.partsBytes += chunk.length;
      if (this.partsBytes < this.needed) return [];
      data = Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
    }
    const messages: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const available = data.length - offset;
      if (available < FRAME_PREFIX_BYTES) {
        this.needed = FRAME_PREFIX_BYTES;
        break;
      }
      const flags = data[offset]!;
      if (flags !== 0) {
        throw new MalformedMessageError(
          flags === 1
            ? "compressed gRPC messages are not supported; send grpc-encoding identity"
            : `invalid gRPC frame flags 0x${flags.toString(16)}`,
        );
      }
      const length = data.readUInt32BE(offset + 1);
      if (length > this.maxMessageBytes)
        throw new MessageTooLargeError(length, this.maxMessageBytes);
      if (available < FRAME_PREFIX_BYTES + length) {
        this.needed = FRAME_PREFIX_BYTES + length;
        break;
      }
      messages.push(
        data.subarray(offset + FRAME_PREFIX_BYTES, offset + FRAME_PREFIX_BYTES + length),
      );
      offset += FRAME_PREFIX_BYTES + length;
    }
    if (offset < data.length) {
      this.parts.push(data.subarray(offset));
      this.partsBytes = data.length - offset;
    }
    return messages;
  }

  /** Bytes of an incomplete message held back; non-zero when a stream ends mid-message. */
  get pendingBytes(): number {
    return this.partsBytes;
  }
}
