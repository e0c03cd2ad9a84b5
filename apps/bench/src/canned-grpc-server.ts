import { createServer, type Server, type Socket } from "node:net";
import { frameGrpcMessage } from "./grpc-message.js";
import { encodeHeaderBlock } from "./hpack-encoder.js";
import { StaticIndex } from "./hpack-static-table.js";
import {
  CLIENT_PREFACE,
  DEFAULT_WINDOW_SIZE,
  encodeGoaway,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  Http2ErrorCode,
  writeFrameHeader,
} from "./http2-frame.js";

/** Options of a CannedGrpcServer. */
export interface CannedGrpcServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The response message every call gets. */
  response: Uint8Array;
}

/** The connection-level receive window the server grants each client. */
const CONNECTION_WINDOW = 16 * 1024 * 1024;

/**
 * A gRPC server that answers every unary call, whatever its method and request, with the
 * same pre-encoded response, at a few microseconds of CPU per call: the "trivial server"
 * against which the load generator's own ceiling is measured. It never decodes request
 * headers (the answer does not depend on them, so its HPACK state does not matter), and
 * it accepts request bodies up to the 64 KiB initial stream window. Not a real server.
 */
export class CannedGrpcServer {
  /** Listens and resolves once bound. */
  static async listen(options: CannedGrpcServerOptions): Promise<CannedGrpcServer> {
    const server = new CannedGrpcServer(options.response);
    await new Promise<void>((resolve, reject) => {
      server.server.once("error", reject);
      server.server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    return server;
  }

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Response headers, DATA and trailers of stream 0; stream ids are patched per call. */
  private readonly template: Buffer;
  private readonly dataAt: number;
  private readonly trailersAt: number;
  private readonly dataLength: number;
  private answered = 0;

  private constructor(response: Uint8Array) {
    const headers = encodeHeaderBlock([
      { index: StaticIndex.status200 },
      { nameIndex: StaticIndex.contentType, value: "application/grpc" },
    ]);
    const trailers = encodeHeaderBlock([{ name: "grpc-status", value: "0" }]);
    const data = frameGrpcMessage(response);
    this.dataLength = data.length;
    const dataAt = FRAME_HEADER_BYTES + headers.length;
    this.dataAt = dataAt;
    this.trailersAt = dataAt + FRAME_HEADER_BYTES + data.length;
    this.template = Buffer.alloc(this.trailersAt + FRAME_HEADER_BYTES + trailers.length);
    writeFrameHeader(this.template, 0, headers.length, FrameType.HEADERS, Flag.END_HEADERS, 0);
    this.template.set(headers, FRAME_HEADER_BYTES);
    writeFrameHeader(this.template, dataAt, data.length, FrameType.DATA, 0, 0);
    this.template.set(data, dataAt + FRAME_HEADER_BYTES);
    writeFrameHeader(
      this.template,
      this.trailersAt,
      trailers.length,
      FrameType.HEADERS,
      Flag.END_HEADERS | Flag.END_STREAM,
      0,
    );
    this.template.set(trailers, this.trailersAt + FRAME_HEADER_BYTES);
    this.server = createServer((socket) => this.serve(socket));
  }

  /** The bound port. */
  get port(): number {
    const address = this.server.address();
    return address !== null && typeof address !== "string" ? address.port : 0;
  }

  /** Calls answered so far. */
  get requests(): number {
    return this.answered;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.write(
      Buffer.concat([
        encodeSettings([]),
        encodeWindowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW_SIZE),
      ]),
    );
    let prefaceSeen = false;
    let leftover: Buffer | null = null;
    let received = 0;
    let sendWindow = DEFAULT_WINDOW_SIZE;
    // Streams whose request ended but whose answer waits for connection send window.
    const held: number[] = [];
    // The stream of a header block still waiting for CONTINUATION, and its END_STREAM flag.
    let continuing = 0;
    let continuingEnds = false;

    const answer = (out: Buffer[], streamId: number): void => {
      if (sendWindow < this.dataLength) {
        held.push(streamId);
        return;
      }
      sendWindow -= this.dataLength;
      const frames = Buffer.from(this.template);
      frames.writeUInt32BE(streamId, 5);
      frames.writeUInt32BE(streamId, this.dataAt + 5);
      frames.writeUInt32BE(streamId, this.trailersAt + 5);
      out.push(frames);
      this.answered += 1;
    };

    socket.on("data", (chunk: Buffer) => {
      const buf: Buffer = leftover ? Buffer.concat([leftover, chunk]) : chunk;
      leftover = null;
      let pos = 0;
      if (!prefaceSeen) {
        if (buf.length < CLIENT_PREFACE.length) {
          leftover = buf;
          return;
        }
        if (!buf.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) {
          socket.destroy();
          return;
        }
        prefaceSeen = true;
        pos = CLIENT_PREFACE.length;
      }
      const out: Buffer[] = [];
      while (buf.length - pos >= FRAME_HEADER_BYTES) {
        const length = buf.readUIntBE(pos, 3);
        if (buf.length - pos - FRAME_HEADER_BYTES < length) break;
        const type = buf[pos + 3] as number;
        const flags = buf[pos + 4] as number;
        const streamId = buf.readUInt32BE(pos + 5) & 0x7fff_ffff;
        const payloadAt = pos + FRAME_HEADER_BYTES;
        pos = payloadAt + length;
        if (continuing !== 0 && type !== FrameType.CONTINUATION) {
          socket.end(encodeGoaway(0, Http2ErrorCode.PROTOCOL_ERROR, "expected CONTINUATION"));
          return;
        }
        switch (type) {
          case FrameType.SETTINGS:
            if (!(flags & Flag.ACK)) {
              const ack = Buffer.alloc(FRAME_HEADER_BYTES);
              writeFrameHeader(ack, 0, 0, FrameType.SETTINGS, Flag.ACK, 0);
              out.push(ack);
            }
            break;
          case FrameType.PING:
            if (!(flags & Flag.ACK)) {
              const pong = Buffer.from(buf.subarray(pos - length - FRAME_HEADER_BYTES, pos));
              pong[4] = Flag.ACK;
              out.push(pong);
            }
            break;
          case FrameType.WINDOW_UPDATE:
            if (streamId === 0) {
              sendWindow += buf.readUInt32BE(payloadAt) & 0x7fff_ffff;
              while (held.length > 0 && sendWindow >= this.dataLength) {
                answer(out, held.shift() as number);
              }
            }
            break;
          case FrameType.HEADERS:
            if (!(flags & Flag.END_HEADERS)) {
              continuing = streamId;
              continuingEnds = (flags & Flag.END_STREAM) !== 0;
            } else if (flags & Flag.END_STREAM) {
              answer(out, streamId);
            }
            break;
          case FrameType.CONTINUATION:
            if (flags & Flag.END_HEADERS) {
              if (continuingEnds) answer(out, continuing);
              continuing = 0;
            }
            break;
          case FrameType.DATA:
            received += length;
            if (received >= CONNECTION_WINDOW / 2) {
              out.push(encodeWindowUpdate(0, received));
              received = 0;
            }
            if (flags & Flag.END_STREAM) answer(out, streamId);
            break;
          default:
            break;
        }
      }
      if (pos < buf.length) leftover = buf.subarray(pos);
      if (out.length > 0) socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
    });
  }
}
