import type { FileHandle } from "node:fs/promises";
import { open, rm } from "node:fs/promises";
import type { ServerHttp2Stream } from "node:http2";
import { join } from "node:path";
import { type Message, MessageType, type NodeId, type TransportHandler } from "@raftkv/raft-core";
import { ChunkReader } from "./chunk-reader.js";
import { crc32c } from "./crc32c.js";
import {
  MalformedMessageError,
  MessageTooLargeError,
  SnapshotChecksumError,
  TransportClosedError,
} from "./errors.js";
import { FrameDecoder } from "./grpc-frame.js";
import type { GrpcServerCall } from "./grpc-server-call.js";
import { GrpcStatus, statusOf } from "./grpc-status.js";
import type { TransportLogger } from "./logger.js";
import type { ResolvedOptions } from "./options.js";
import type { PeerStats } from "./peer-stats.js";
import {
  decodeSnapshotRequest,
  encodeSnapshotResponseFrame,
  type SnapshotHeader,
} from "./snapshot-codec.js";
import { readSpool, type SpoolDirectory } from "./snapshot-spool.js";

export interface SnapshotReceiverContext {
  options: ResolvedOptions;
  logger: TransportLogger;
  spool: SpoolDirectory;
  handler(): TransportHandler | undefined;
  peerStats(peer: NodeId): PeerStats;
  /** Throws a typed error unless the header's cluster, sender and recipient are acceptable. */
  checkHeader(header: SnapshotHeader): void;
  /** Counts and logs a refusal. */
  refused(error: unknown, peer: NodeId | undefined): void;
}

/** A snapshot being received from one sender, kept across connections so it can resume. */
interface PartialSnapshot {
  from: NodeId;
  /** Identifies the snapshot: its Raft index and term. */
  key: string;
  path: string;
  file: FileHandle;
  received: number;
  crc: number;
  expiry: NodeJS.Timeout | undefined;
  active: { stream: ServerHttp2Stream; done: Promise<void> } | undefined;
}

function snapshotKey(message: Message): string {
  return `${message.snapshot?.term ?? 0}/${message.snapshot?.index ?? 0}`;
}

/**
 * The receiving side of InstallSnapshot. Data is spooled to a file as it arrives (the
 * stream is read only as fast as the file is written, so HTTP/2 flow control pushes back
 * on the sender), the CRC-32C is checked, and only then is the snapshot handed to Raft.
 * A transfer broken mid-way stays on disk for `snapshot.resumeTimeoutMs`; the sender's
 * probe learns how much arrived and continues from there.
 */
export class SnapshotReceiver {
  private readonly partials = new Map<NodeId, PartialSnapshot>();
  private closed = false;

  constructor(private readonly context: SnapshotReceiverContext) {}

  /** Serves one InstallSnapshot call to completion; never throws. */
  async serve(call: GrpcServerCall): Promise<void> {
    const { options } = this.context;
    const decoder = new FrameDecoder(options.maxReceiveMessageBytes);
    let partial: PartialSnapshot | undefined;
    let header: SnapshotHeader | undefined;
    let finishActive: (() => void) | undefined;
    const reader = new ChunkReader(call.stream);
    let answered = false;
    try {
      for (let chunk = await reader.next(); chunk !== undefined; chunk = await reader.next()) {
        for (const frame of decoder.push(chunk)) {
          if (answered) throw new MalformedMessageError("InstallSnapshot continued after its end");
          const request = decodeSnapshotRequest(frame);
          if (header === undefined) {
            if (request.kind !== "header") {
              throw new MalformedMessageError("InstallSnapshot must start with a header");
            }
            header = request.header;
            this.check(header);
            const previous = this.partials.get(header.from);
            if (previous?.active !== undefined) {
              // The sender reconnected before we noticed the old connection die.
              previous.active.stream.destroy();
              await previous.active.done;
            }
            if (header.probe) {
              const held = this.partials.get(header.from);
              const received = held?.key === snapshotKey(header.message) ? held.received : 0;
              call.write(encodeSnapshotResponseFrame(received, 0));
              call.finish(GrpcStatus.OK);
              answered = true;
              continue;
            }
            partial = await this.begin(header);
            let resolveDone!: () => void;
            const done = new Promise<void>((resolve) => {
              resolveDone = resolve;
            });
            partial.active = { stream: call.stream, done };
            finishActive = () => {
              if (partial?.active?.stream === call.stream) partial.active = undefined;
              resolveDone();
            };
            continue;
          }
          if (partial === undefined) throw new MalformedMessageError("snapshot data before header");
          if (request.kind === "header") {
            throw new MalformedMessageError("InstallSnapshot carries a second header");
          }
          if (request.kind === "data") {
            await this.write(partial, request.data);
            continue;
          }
          // The checksum chunk: everything has arrived.
          if (partial.crc !== request.crc32c) {
            await this.discard(partial);
            throw new SnapshotChecksumError(request.crc32c, partial.crc);
          }
          if (header.totalBytes !== 0 && header.totalBytes !== partial.received) {
            await this.discard(partial);
            throw new MalformedMessageError(
              `snapshot has ${partial.received} bytes, its header announced ${header.totalBytes}`,
            );
          }
          finishActive?.();
          finishActive = undefined;
          await this.deliver(partial, header, call);
          answered = true;
        }
      }
      if (answered) return;
      // The sender half-closed before the checksum: keep what arrived for a resume.
      if (partial !== undefined) this.keepForResume(partial);
      call.finish(
        GrpcStatus.ABORTED,
        `snapshot ended before its checksum; ${partial?.received ?? 0} bytes held`,
      );
    } catch (error) {
      if (partial !== undefined && this.partials.get(partial.from) === partial) {
        this.keepForResume(partial);
      }
      if (call.stream.destroyed) return; // the connection broke; nobody to answer
      this.context.refused(error, header?.from);
      call.finish(statusOf(error), error instanceof Error ? error.message : String(error));
    } finally {
      finishActive?.();
    }
  }

  /** Deletes every partial snapshot; further calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.partials.values()].map((p) => this.discard(p)));
  }

  private check(header: SnapshotHeader): void {
    if (this.closed) throw new TransportClosedError();
    this.context.checkHeader(header);
    const m = header.message;
    if (m.type !== MessageType.Snapshot || m.snapshot === undefined) {
      throw new MalformedMessageError(
        "SnapshotHeader.message must be a snapshot message with metadata",
      );
    }
    if (m.from !== header.from || m.to !== header.to) {
      throw new MalformedMessageError("SnapshotHeader.message is not between the header's members");
    }
  }

  private async begin(header: SnapshotHeader): Promise<PartialSnapshot> {
    const key = snapshotKey(header.message);
    const held = this.partials.get(header.from);
    if (header.offset === 0) {
      if (held !== undefined) await this.discard(held);
      const dir = await this.context.spool.get();
      const path = join(dir, `from-${header.from}-${key.replace("/", "-")}.snap`);
      const partial: PartialSnapshot = {
        from: header.from,
        key,
        path,
        file: await open(path, "w"),
        received: 0,
        crc: 0,
        expiry: undefined,
        active: undefined,
      };
      this.partials.set(header.from, partial);
      return partial;
    }
    if (held === undefined || held.key !== key || held.received !== header.offset) {
      throw new MalformedMessageError(
        `cannot resume snapshot ${key} at byte ${header.offset}: ${
          held?.key === key ? `${held.received} bytes held` : "none of it is held"
        }`,
      );
    }
    clearTimeout(held.expiry);
    held.expiry = undefined;
    this.context.peerStats(header.from).snapshotResumes++;
    this.context.logger.info(
      { peer: header.from, snapshot: key, offset: header.offset },
      "resuming snapshot transfer",
    );
    return held;
  }

  private async write(partial: PartialSnapshot, data: Uint8Array): Promise<void> {
    const limit = this.context.options.snapshotMaxBytes;
    if (partial.received + data.length > limit) {
      await this.discard(partial);
      throw new MessageTooLargeError(partial.received + data.length, limit);
    }
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await partial.file.write(
        data,
        written,
        data.length - written,
        partial.received + written,
      );
      written += bytesWritten;
    }
    // Only now, with the bytes in the file, do they count as held (and resumable).
    partial.crc = crc32c(data, partial.crc);
    partial.received += data.length;
  }

  private async deliver(
    partial: PartialSnapshot,
    header: SnapshotHeader,
    call: GrpcServerCall,
  ): Promise<void> {
    this.partials.delete(partial.from);
    await partial.file.close();
    const handler = this.context.handler();
    try {
      if (handler === undefined) throw new TransportClosedError();
      await handler.onSnapshot(
        header.message,
        readSpool(partial.path, partial.crc, this.context.options.snapshotChunkBytes),
      );
      this.context.peerStats(partial.from).snapshotsReceived++;
      this.context.logger.info(
        { peer: partial.from, snapshot: partial.key, bytes: partial.received },
        "received snapshot",
      );
      call.write(encodeSnapshotResponseFrame(partial.received, 0));
      call.finish(GrpcStatus.OK);
    } catch (error) {
      this.context.logger.warn(
        { peer: partial.from, snapshot: partial.key, error: String(error) },
        "snapshot was not taken in",
      );
      call.finish(
        error instanceof SnapshotChecksumError ? GrpcStatus.DATA_LOSS : GrpcStatus.ABORTED,
        `snapshot not applied: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      await rm(partial.path, { force: true });
    }
  }

  private keepForResume(partial: PartialSnapshot): void {
    clearTimeout(partial.expiry);
    partial.expiry = setTimeout(() => {
      if (this.partials.get(partial.from) === partial) void this.discard(partial);
    }, this.context.options.snapshotResumeTimeoutMs);
    partial.expiry.unref();
  }

  private async discard(partial: PartialSnapshot): Promise<void> {
    clearTimeout(partial.expiry);
    if (this.partials.get(partial.from) === partial) this.partials.delete(partial.from);
    await partial.file.close().catch(() => {});
    await rm(partial.path, { force: true });
  }
}
