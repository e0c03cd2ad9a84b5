import type { Message } from "@raftkv/raft-core";
import type { GrpcClientCall } from "./grpc-client-call.js";
import { batchedMessageSize, encodeStreamRequestFrame } from "./message-codec.js";
import type { PeerStats } from "./peer-stats.js";

/** Limits of one lane (one long-lived stream) to one peer. */
export interface LaneLimits {
  /** Messages waiting to be sent; beyond it new messages are dropped. */
  maxQueuedMessages: number;
  /** Encoded bytes waiting to be sent; beyond it new messages are dropped. */
  maxQueuedBytes: number;
  /** A batch stops growing once it reaches this many bytes (a single larger message is sent alone). */
  maxBatchBytes: number;
  /** Batches written but not yet acknowledged by the peer. */
  maxInflightBatches: number;
  /** Bytes written but not yet acknowledged by the peer. */
  maxInflightBytes: number;
}

/**
 * One of the two streams to a peer: a bounded queue of encoded-size-known messages, cut
 * into batches as the stream accepts them. While the in-flight window (unacknowledged
 * batches and bytes) is full or the stream is waiting for `drain`, new messages coalesce
 * in the queue and leave together as the next batch. Acknowledgements
 * (StreamResponse.batches_received) open the window and give the round-trip time.
 */
export class PeerLane {
  private queue: Message[] = [];
  private sizes: number[] = [];
  private head = 0;
  private queuedBytes = 0;
  private call: GrpcClientCall | undefined;
  private blocked = false;
  private sent = 0;
  private acked = 0;
  private inflightBytes = 0;
  private readonly sentAt: Float64Array;
  private readonly sentBytes: Float64Array;

  constructor(
    private readonly address: Uint8Array,
    private readonly limits: LaneLimits,
    private readonly stats: PeerStats,
    private readonly onRoundTrip: (seconds: number) => void,
  ) {
    this.sentAt = new Float64Array(limits.maxInflightBatches);
    this.sentBytes = new Float64Array(limits.maxInflightBatches);
  }

  get queuedMessages(): number {
    return this.queue.length - this.head;
  }

  /** Queues a message of `size` encoded bytes; false (and nothing queued) when full. */
  enqueue(message: Message, size: number): boolean {
    if (
      this.queuedMessages >= this.limits.maxQueuedMessages ||
      this.queuedBytes + size > this.limits.maxQueuedBytes
    ) {
      return false;
    }
    this.queue.push(message);
    this.sizes.push(size);
    this.queuedBytes += size;
    return true;
  }

  /** Starts writing to a freshly opened stream; the window starts empty. */
  attach(call: GrpcClientCall): void {
    this.call = call;
    this.blocked = false;
    this.sent = 0;
    this.acked = 0;
    this.inflightBytes = 0;
    call.stream.on("drain", () => {
      if (this.call !== call) return;
      this.blocked = false;
      this.flush();
    });
  }

  /** Forgets the stream (it failed or closed) and drops the queue; returns the dropped count. */
  detach(): number {
    this.call = undefined;
    const dropped = this.queuedMessages;
    this.queue = [];
    this.sizes = [];
    this.head = 0;
    this.queuedBytes = 0;
    return dropped;
  }

  /** Writes queued messages as batches while the window and the stream allow. */
  flush(): void {
    const call = this.call;
    if (call === undefined) return;
    const limits = this.limits;
    while (
      !this.blocked &&
      this.head < this.queue.length &&
      this.sent - this.acked < limits.maxInflightBatches &&
      this.inflightBytes < limits.maxInflightBytes
    ) {
      let end = this.head;
      let bytes = this.address.length;
      while (end < this.queue.length) {
        const cost = batchedMessageSize(this.sizes[end]!);
        if (end > this.head && bytes + cost > limits.maxBatchBytes) break;
        bytes += cost;
        end++;
      }
      const messages = this.queue.slice(this.head, end);
      const sizes = this.sizes.slice(this.head, end);
      this.head = end;
      for (const size of sizes) this.queuedBytes -= size;
      this.compact();
      const frame = encodeStreamRequestFrame(this.address, messages, sizes);
      const slot = this.sent % limits.maxInflightBatches;
      this.sentAt[slot] = performance.now();
      this.sentBytes[slot] = frame.length;
      this.sent++;
      this.inflightBytes += frame.length;
      this.stats.sentBatches++;
      this.stats.sentMessages += messages.length;
      this.stats.sentBytes += frame.length;
      if (!call.write(frame)) {
        if (call.ended) return;
        this.blocked = true;
      }
    }
  }

  /** The peer has handed `batchesReceived` batches of this stream to its Raft node. */
  onAck(batchesReceived: number): void {
    // A peer cannot acknowledge more than was sent; an ack beyond that is ignored.
    if (batchesReceived <= this.acked || batchesReceived > this.sent) return;
    const limits = this.limits;
    for (let n = this.acked; n < batchesReceived; n++) {
      this.inflightBytes -= this.sentBytes[n % limits.maxInflightBatches]!;
    }
    const newest = (batchesReceived - 1) % limits.maxInflightBatches;
    const seconds = (performance.now() - this.sentAt[newest]!) / 1000;
    this.acked = batchesReceived;
    this.stats.lastRoundTripMs = seconds * 1000;
    this.onRoundTrip(seconds);
    this.flush();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}
