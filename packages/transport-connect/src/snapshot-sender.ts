import type { ClientHttp2Session } from "node:http2";
import type { Message, NodeId } from "@raftkv/raft-core";
import { Backoff } from "./backoff.js";
import { crc32c } from "./crc32c.js";
import { PeerRejectedError, SnapshotTransferError, TransportClosedError } from "./errors.js";
import { type CallOutcome, GrpcClientCall } from "./grpc-client-call.js";
import { GrpcStatus, isRetryableStatus } from "./grpc-status.js";
import { connectSession, type PeerContext } from "./peer-client.js";
import type { PeerStats } from "./peer-stats.js";
import { Header, INSTALL_SNAPSHOT_PATH } from "./raft-service.js";
import { ReplayBuffer } from "./replay-buffer.js";
import {
  decodeSnapshotResponse,
  encodeSnapshotChecksumFrame,
  encodeSnapshotDataHead,
  encodeSnapshotHeaderFrame,
} from "./snapshot-codec.js";

/** The peer a snapshot goes to, as the sender sees it at each attempt. */
export interface SnapshotTarget {
  id: NodeId;
  currentUrl(): URL;
  stats: PeerStats;
}

/** A failure worth another attempt on a new connection (the peer did not refuse). */
class RetryableFailure extends Error {}

/**
 * Sends one snapshot over InstallSnapshot on a connection of its own, so that its bulk
 * data never sits in the socket buffers ahead of heartbeats. Data is read from the
 * source once; the CRC-32C of everything read is sent last. When the connection breaks,
 * the sender reconnects (with backoff), asks the receiver how much it holds (a probe),
 * and continues from there out of its replay buffer; if the receiver's position is older
 * than the buffer, the transfer fails and Raft sends a fresh snapshot later.
 */
export class SnapshotSender {
  private readonly replay: ReplayBuffer;
  private readonly source: AsyncIterator<Uint8Array>;
  private sourceDone = false;
  private read = 0;
  private crc = 0;
  private session: ClientHttp2Session | undefined;
  private call: GrpcClientCall | undefined;

  constructor(
    private readonly context: PeerContext,
    private readonly target: SnapshotTarget,
    private readonly message: Message,
    data: AsyncIterable<Uint8Array>,
    private readonly signal: AbortSignal,
  ) {
    this.replay = new ReplayBuffer(context.options.snapshotResumeBufferBytes);
    this.source = data[Symbol.asyncIterator]();
  }

  /**
   * Runs the transfer to the end; rejects with SnapshotTransferError, or with the reason
   * of `signal` (TransportClosedError, PeerNotFoundError) when it is aborted.
   */
  async run(): Promise<void> {
    const { options, logger } = this.context;
    const backoff = new Backoff(options.backoff, options.random);
    const onAbort = () => this.teardown(this.abortReason());
    this.signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          if (this.signal.aborted) throw this.abortReason();
          await this.attempt(attempt);
          this.target.stats.snapshotsSent++;
          this.target.stats.snapshotBytesSent += this.read;
          logger.info(
            {
              peer: this.target.id,
              index: this.message.snapshot?.index,
              bytes: this.read,
              attempts: attempt,
            },
            "sent snapshot",
          );
          return;
        } catch (error) {
          this.teardown(error instanceof Error ? error : new Error(String(error)));
          if (this.signal.aborted) throw this.abortReason();
          if (!(error instanceof RetryableFailure) || attempt >= options.snapshotMaxAttempts) {
            throw error instanceof SnapshotTransferError
              ? error
              : new SnapshotTransferError(
                  `snapshot to member ${this.target.id} failed after ${attempt} attempt(s): ${
                    error instanceof Error ? error.message : String(error)
                  }`,
                  { cause: error instanceof RetryableFailure ? error.cause : error },
                );
          }
          const delayMs = backoff.next();
          logger.warn(
            { peer: this.target.id, attempt, error: String(error), retryInMs: Math.round(delayMs) },
            "snapshot transfer broke; will resume",
          );
          await sleep(delayMs, this.signal);
        }
      }
    } catch (error) {
      this.target.stats.snapshotsFailed++;
      await this.source.return?.().catch(() => {});
      throw error;
    } finally {
      this.signal.removeEventListener("abort", onAbort);
      this.teardown(undefined);
    }
  }

  private async attempt(attempt: number): Promise<void> {
    await this.connect();
    let offset = 0;
    if (attempt > 1 || this.read > 0) {
      offset = await this.probe();
      if (offset < this.replay.start || offset > this.replay.end) {
        throw new SnapshotTransferError(
          `cannot resume snapshot to member ${this.target.id}: it holds ${offset} bytes, ` +
            `the sender can replay only [${this.replay.start}, ${this.replay.end}) ` +
            "(snapshot.resumeBufferBytes)",
        );
      }
      if (offset > 0) this.target.stats.snapshotResumes++;
    }
    const call = this.open();
    await this.write(call, encodeSnapshotHeaderFrame(this.header(offset, false)));
    let position = offset;
    // Writes everything read but not yet sent on this call. Pieces are accounted (CRC,
    // replay buffer) when read, so a break mid-chunk loses nothing.
    const writeHeld = async () => {
      for (const piece of this.replay.from(position)) {
        await this.writeData(call, piece);
        position += piece.length;
        this.replay.release(position);
      }
    };
    await writeHeld();
    const chunkBytes = this.context.options.snapshotChunkBytes;
    while (!this.sourceDone) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.source.next();
      } catch (cause) {
        throw new SnapshotTransferError("reading the snapshot data failed", { cause });
      }
      if (next.done === true) {
        this.sourceDone = true;
        break;
      }
      const data = next.value;
      for (let at = 0; at < data.length; at += chunkBytes) {
        const piece = data.subarray(at, Math.min(at + chunkBytes, data.length));
        this.crc = crc32c(piece, this.crc);
        this.read += piece.length;
        this.replay.append(piece);
      }
      await writeHeld();
    }
    await this.write(call, encodeSnapshotChecksumFrame(this.crc));
    call.end();
    const outcome = await call.outcome;
    this.throwUnlessOk(outcome);
  }

  private header(offset: number, probe: boolean) {
    const o = this.context.options;
    return {
      clusterId: o.clusterId,
      from: o.id,
      to: this.target.id,
      message: this.message,
      totalBytes: 0,
      offset,
      probe,
    };
  }

  private async probe(): Promise<number> {
    let receivedBytes = 0;
    const call = this.open((bytes) => {
      receivedBytes = decodeSnapshotResponse(bytes).receivedBytes;
    });
    await this.write(call, encodeSnapshotHeaderFrame(this.header(0, true)));
    call.end();
    this.throwUnlessOk(await call.outcome);
    return receivedBytes;
  }

  private open(onMessage: (bytes: Buffer) => void = () => {}): GrpcClientCall {
    const o = this.context.options;
    const session = this.session;
    if (session === undefined || session.destroyed) throw new RetryableFailure("not connected");
    const call = new GrpcClientCall({
      session,
      path: INSTALL_SNAPSHOT_PATH,
      headers: {
        [Header.clusterId]: o.clusterId.toString(),
        [Header.from]: String(o.id),
        [Header.to]: String(this.target.id),
      },
      maxReceiveMessageBytes: o.maxReceiveMessageBytes,
      onMessage,
    });
    this.call = call;
    return call;
  }

  private connect(): Promise<void> {
    const url = this.target.currentUrl();
    const session = connectSession(this.context, url);
    this.session = session;
    session.on("error", () => {}); // surfaces through the calls' outcomes
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.destroy();
        reject(new RetryableFailure(`connecting to ${url.href} timed out`));
      }, this.context.options.connectTimeoutMs);
      session.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      session.once("close", () => {
        clearTimeout(timer);
        reject(new RetryableFailure(`connection to ${url.href} closed`));
      });
      session.once("error", (error) => {
        clearTimeout(timer);
        reject(new RetryableFailure(error.message, { cause: error }));
      });
    });
  }

  private async writeData(call: GrpcClientCall, chunk: Uint8Array): Promise<void> {
    call.write(encodeSnapshotDataHead(chunk.length));
    await this.write(call, chunk);
  }

  /** Writes and, when the stream's buffer is full, waits for it to drain (back-pressure). */
  private async write(call: GrpcClientCall, bytes: Uint8Array): Promise<void> {
    if (call.ended) this.throwUnlessOk(await call.outcome, true);
    if (call.write(bytes)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => resolve();
      call.stream.once("drain", onDrain);
      void call.outcome.then((outcome) => {
        call.stream.off("drain", onDrain);
        try {
          this.throwUnlessOk(outcome, true);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  private throwUnlessOk(outcome: CallOutcome, early = false): void {
    if (outcome.transportError !== undefined) {
      throw new RetryableFailure(outcome.message, { cause: outcome.transportError });
    }
    if (outcome.status === GrpcStatus.OK) {
      if (early) throw new RetryableFailure("peer ended the call before the snapshot was sent");
      return;
    }
    const rejected = new PeerRejectedError(this.target.id, outcome.status, outcome.message);
    if (isRetryableStatus(outcome.status))
      throw new RetryableFailure(rejected.message, { cause: rejected });
    throw new SnapshotTransferError(
      `member ${this.target.id} refused the snapshot: ${outcome.message}`,
      {
        cause: rejected,
      },
    );
  }

  /** Why the transfer was stopped from outside: the transport closed, or the peer was removed. */
  private abortReason(): Error {
    const reason: unknown = this.signal.reason;
    return reason instanceof Error ? reason : new TransportClosedError({ cause: reason });
  }

  private teardown(reason: Error | undefined): void {
    const call = this.call;
    const session = this.session;
    this.call = undefined;
    this.session = undefined;
    if (call !== undefined && !call.ended)
      call.cancel(reason ?? new Error("snapshot transfer ended"));
    if (session !== undefined && !session.destroyed) {
      if (reason === undefined) session.close();
      else session.destroy();
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
