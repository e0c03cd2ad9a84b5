import type { NodeId } from "./types.js";

/** A read-index request waiting at the leader for its leadership to be confirmed. */
export interface ReadRequest {
  /** The commit index when the request arrived: the read index it will be answered with. */
  index: number;
  /** The member that asked (the leader itself for local requests). */
  from: NodeId;
  context: Uint8Array;
  /** The heartbeat round confirming leadership for it; 0 until a round is started. */
  round: number;
}

const ROUND_CONTEXT_BYTES = 8;

/** The heartbeat context naming a round: the round number as an 8-byte big-endian integer. */
export function encodeRoundContext(round: number): Uint8Array {
  const ctx = new Uint8Array(ROUND_CONTEXT_BYTES);
  const view = new DataView(ctx.buffer);
  view.setUint32(0, Math.floor(round / 0x1_0000_0000));
  view.setUint32(4, round >>> 0);
  return ctx;
}

/** The round a heartbeat response's context names, or 0 if it names none. */
export function decodeRoundContext(ctx: Uint8Array | undefined): number {
  if (ctx === undefined || ctx.byteLength !== ROUND_CONTEXT_BYTES) return 0;
  const view = new DataView(ctx.buffer, ctx.byteOffset, ROUND_CONTEXT_BYTES);
  const round = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
  return Number.isSafeInteger(round) && round > 0 ? round : 0;
}

/**
 * ReadIndex in etcd's safe mode (Raft thesis §6.4): a request is answered with the commit
 * index it found on arrival, once a quorum has acknowledged a heartbeat round the leader
 * started after the arrival — proof that no other leader had been elected meanwhile.
 *
 * Requests that arrive while a round is in flight cannot use that round (it began before
 * them); all of them share the next one, so the number of heartbeat rounds grows with the
 * number of Ready cycles, not with the number of reads. A round acknowledged by a quorum
 * also confirms every earlier round, so it releases all requests queued before it.
 */
export class ReadOnly {
  private queue: ReadRequest[] = [];
  /** Requests in `queue` from this position on have no round yet. */
  private unassignedFrom = 0;
  private readonly acks = new Map<number, Set<NodeId>>();
  private nextRound = 1;
  /** The maximum number of queued requests. */
  readonly maxPending: number;

  constructor(maxPending: number) {
    this.maxPending = maxPending;
  }

  get pendingCount(): number {
    return this.queue.length;
  }

  /** Queues a request; returns false (queuing nothing) when the queue is full. */
  add(index: number, from: NodeId, context: Uint8Array): boolean {
    if (this.queue.length >= this.maxPending) return false;
    this.queue.push({ index, from, context, round: 0 });
    return true;
  }

  /** True when some queued requests still need a round. */
  needsRound(): boolean {
    return this.unassignedFrom < this.queue.length;
  }

  /**
   * Starts a round for every request that has none, with `self`'s acknowledgement
   * already counted. Returns the round number to put in the heartbeats' context.
   */
  startRound(self: NodeId): number {
    const round = this.nextRound++;
    for (let i = this.unassignedFrom; i < this.queue.length; i++) this.queue[i]!.round = round;
    this.unassignedFrom = this.queue.length;
    this.acks.set(round, new Set([self]));
    return round;
  }

  /** The most recent round still waiting for acknowledgements, or 0. */
  lastRound(): number {
    const last = this.queue[this.unassignedFrom - 1];
    return last === undefined ? 0 : last.round;
  }

  /** Records `from`'s acknowledgement of `round`; returns who has acknowledged it, if it is pending. */
  recordAck(round: number, from: NodeId): ReadonlySet<NodeId> | undefined {
    const acks = this.acks.get(round);
    if (acks === undefined) return undefined;
    acks.add(from);
    return acks;
  }

  /** Releases every request whose round is `<= round`, in arrival order. */
  release(round: number): ReadRequest[] {
    let n = 0;
    while (n < this.unassignedFrom && this.queue[n]!.round <= round) n++;
    const released = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.unassignedFrom -= n;
    for (const r of this.acks.keys()) {
      if (r <= round) this.acks.delete(r);
    }
    return released;
  }

  /** Drops every request (leadership lost); returns them so callers can be told. */
  reset(): ReadRequest[] {
    const dropped = this.queue;
    this.queue = [];
    this.unassignedFrom = 0;
    this.acks.clear();
    return dropped;
  }
}
