import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  type MessageBatch,
  RaftService,
  type StreamRequest,
  StreamRequestSchema,
} from "@raftkv/proto/raft";

/** How a `RaftService.Stream` call ended. */
export type PeerLinkEnd =
  | { readonly status: "ok" }
  /** The receiver ended the call with a gRPC status other than OK. */
  | { readonly status: "refused"; readonly code: Code; readonly message: string }
  /** `close()` was called first. */
  | { readonly status: "closed" };

/** Options of `PeerLink`. */
export interface PeerLinkOptions {
  /**
   * Batches held while the receiver does not take them; beyond it new batches are
   * dropped (and counted in `dropped`), as a Raft transport drops rather than buffers
   * without bound. Raft tolerates lost messages; a script waiting for an answer to a
   * dropped one reports that nothing arrived. Default 1 024.
   */
  readonly maxQueuedBatches?: number;
}

/**
 * One outbound `RaftService.Stream` call to the member under test, on an HTTP/2
 * connection of its own (so a refused call cannot disturb another). Batches are sent in
 * order; the receiver's `batches_received` acknowledgements are counted.
 *
 * Unlike the step-by-step `BidiSession` of the API cases, nobody waits for individual
 * acknowledgements here: the answers to Raft messages arrive on the fake peer's own
 * listener, so the response side is only drained and its end recorded.
 */
export class PeerLink {
  /** `batches_received` of the latest acknowledgement. */
  acknowledged = 0n;
  /** Batches dropped because `maxQueuedBatches` were waiting. */
  dropped = 0;
  /** Resolves when the call ends, however it ends; never rejects. */
  readonly ended: Promise<PeerLinkEnd>;

  private readonly queue: StreamRequest[] = [];
  private readonly maxQueued: number;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly controller = new AbortController();
  private readonly sessions: Http2SessionManager;
  private ackWaiters: (() => void)[] = [];

  /** Opens the call to `url` (`http://host:port`, the member's peer URL). */
  constructor(url: string, options: PeerLinkOptions = {}) {
    this.maxQueued = options.maxQueuedBatches ?? 1024;
    const sessions = new Http2SessionManager(url);
    this.sessions = sessions;
    const client = createClient(
      RaftService,
      createGrpcTransport({ baseUrl: url, sessionManager: sessions }),
    );
    this.ended = (async (): Promise<PeerLinkEnd> => {
      try {
        for await (const response of client.stream(this.requests(), {
          signal: this.controller.signal,
        })) {
          this.acknowledged = response.batchesReceived;
          for (const waiter of this.ackWaiters.splice(0)) waiter();
        }
        return { status: "ok" };
      } catch (error) {
        if (this.closed) return { status: "closed" };
        const status = ConnectError.from(error);
        return { status: "refused", code: status.code, message: status.rawMessage };
      } finally {
        this.closed = true;
        sessions.abort();
        for (const waiter of this.ackWaiters.splice(0)) waiter();
      }
    })();
  }

  /** Whether the call has ended or was closed; sending then does nothing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues `batch`; returns false when it was dropped (queue full or link closed). */
  send(batch: MessageBatch): boolean {
    if (this.closed) return false;
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return false;
    }
    this.queue.push(create(StreamRequestSchema, { batch }));
    this.wake?.();
    return true;
  }

  /**
   * Resolves once the receiver acknowledged `count` batches, or the call ended, or
   * `timeoutMs` passed; returns the acknowledged count then.
   */
  async acknowledgedAtLeast(count: bigint, timeoutMs: number): Promise<bigint> {
    const deadline = Date.now() + timeoutMs;
    while (this.acknowledged < count && !this.closed && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.ackWaiters.push(resolve);
        timer = setTimeout(resolve, deadline - Date.now());
      });
      clearTimeout(timer);
    }
    return this.acknowledged;
  }

  /** Ends the call and its connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.controller.abort(new ConnectError("fake peer closed the stream", Code.Canceled));
    this.sessions.abort();
  }

  private async *requests(): AsyncGenerator<StreamRequest> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift()!;
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
