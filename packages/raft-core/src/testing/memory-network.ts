import { RaftError, StoppedError } from "../errors.js";
import { createRng, type Rng } from "../rng.js";
import type { Transport, TransportHandler } from "../transport.js";
import type { Message, NodeId } from "../types.js";
import { decodeMessage, encodeMessage } from "../wire.js";

/** How a link misbehaves; probabilities are per message. */
export interface LinkFaults {
  /** Probability that a message is lost. Default 0. */
  drop: number;
  /** Probability that a message is delivered twice. Default 0. */
  duplicate: number;
  /** Delivery delay is uniform in [minDelayMs, maxDelayMs]; unequal delays reorder. Default 0..0. */
  minDelayMs: number;
  maxDelayMs: number;
}

/** Options of a MemoryNetwork. */
export interface MemoryNetworkOptions {
  /** Seed of the RNG that decides drops, duplicates and delays. Default 1. */
  seed?: number | undefined;
  /** Faults of every link unless set per link. Default: a perfect network. */
  faults?: Partial<LinkFaults> | undefined;
  /**
   * Pass messages through the protobuf wire encoding (as a real transport does), so that
   * nothing is shared between members and conversion bugs show. Default true.
   */
  wire?: boolean | undefined;
  /** Maximum messages queued per link; more are dropped (Transport.send never blocks). Default 10,000. */
  maxQueuedPerLink?: number | undefined;
}

/** A snapshot transfer failed: the link is down, or the receiver refused it. */
export class SnapshotTransferError extends RaftError {
  readonly code = "SNAPSHOT_TRANSFER";
}

const PERFECT: LinkFaults = { drop: 0, duplicate: 0, minDelayMs: 0, maxDelayMs: 0 };

/**
 * An in-process network of `MemoryTransport`s with fault injection: loss, duplication,
 * delay (which reorders), and partitions by directed link, so they can be symmetric,
 * asymmetric or isolate one member. Decisions come from a seeded RNG; timing comes from
 * real timers, so runs with delays are not exactly reproducible (use the simulator for that).
 */
export class MemoryNetwork {
  private readonly transports = new Map<NodeId, MemoryTransport>();
  private readonly blocked = new Set<string>();
  private readonly linkFaults = new Map<string, LinkFaults>();
  private defaultFaults: LinkFaults;
  private readonly rng: Rng;
  private readonly queued = new Map<string, number>();
  readonly wire: boolean;
  readonly maxQueuedPerLink: number;
  /** Counters for tests. */
  delivered = 0;
  dropped = 0;

  constructor(options: MemoryNetworkOptions = {}) {
    this.rng = createRng(options.seed ?? 1);
    this.defaultFaults = { ...PERFECT, ...options.faults };
    this.wire = options.wire ?? true;
    this.maxQueuedPerLink = options.maxQueuedPerLink ?? 10_000;
  }

  /** The transport of member `id` (created on first use). */
  transport(id: NodeId): MemoryTransport {
    let t = this.transports.get(id);
    if (t === undefined) {
      t = new MemoryTransport(this, id);
      this.transports.set(id, t);
    }
    return t;
  }

  /** Sets the faults of every link, or of the link from `from` to `to` only. */
  setFaults(faults: Partial<LinkFaults>, from?: NodeId, to?: NodeId): void {
    if (from === undefined || to === undefined) {
      this.defaultFaults = { ...PERFECT, ...faults };
      this.linkFaults.clear();
    } else {
      this.linkFaults.set(`${from}>${to}`, { ...PERFECT, ...faults });
    }
  }

  /** Cuts the link from `from` to `to` (one direction). */
  cut(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Cuts `id` off from every other member, both ways. */
  isolate(id: NodeId): void {
    for (const other of this.transports.keys()) {
      if (other === id) continue;
      this.cut(id, other);
      this.cut(other, id);
    }
  }

  /** Splits the members into groups that cannot reach each other. */
  partition(...groups: NodeId[][]): void {
    this.blocked.clear();
    for (const g of groups) {
      for (const h of groups) {
        if (g === h) continue;
        for (const a of g) for (const b of h) this.cut(a, b);
      }
    }
  }

  /** Restores every link and removes per-link faults. */
  heal(): void {
    this.blocked.clear();
    this.linkFaults.clear();
    this.defaultFaults = { ...PERFECT };
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  private faultsOf(from: NodeId, to: NodeId): LinkFaults {
    return this.linkFaults.get(`${from}>${to}`) ?? this.defaultFaults;
  }

  /** @internal Called by MemoryTransport.send. */
  route(from: NodeId, messages: readonly Message[]): void {
    for (const m of messages) {
      const to = m.to;
      const link = `${from}>${to}`;
      const f = this.faultsOf(from, to);
      if (this.blocked.has(link) || (f.drop > 0 && this.rng.nextFloat() < f.drop)) {
        this.dropped++;
        continue;
      }
      const copies = f.duplicate > 0 && this.rng.nextFloat() < f.duplicate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const q = this.queued.get(link) ?? 0;
        if (q >= this.maxQueuedPerLink) {
          this.dropped++;
          continue;
        }
        this.queued.set(link, q + 1);
        const payload = this.wire ? encodeMessage(m) : m;
        const delay = f.minDelayMs + this.rng.nextFloat() * (f.maxDelayMs - f.minDelayMs);
        const deliver = () => {
          this.queued.set(link, (this.queued.get(link) ?? 1) - 1);
          // A link cut while the message was in flight loses it.
          if (this.blocked.has(link)) {
            this.dropped++;
            return;
          }
          const target = this.transports.get(to);
          if (target === undefined) {
            this.dropped++;
            return;
          }
          const msg = payload instanceof Uint8Array ? decodeMessage(payload) : payload;
          this.delivered++;
          target.receive(msg);
        };
        if (delay <= 0) queueMicrotask(deliver);
        else setTimeout(deliver, delay);
      }
    }
  }

  /** @internal Called by MemoryTransport.sendSnapshot. */
  async routeSnapshot(
    from: NodeId,
    message: Message,
    data: AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const to = message.to;
    const target = this.transports.get(to);
    if (this.blocked.has(`${from}>${to}`) || target === undefined) {
      throw new SnapshotTransferError(`no route from ${from} to ${to}`);
    }
    const f = this.faultsOf(from, to);
    if (f.drop > 0 && this.rng.nextFloat() < f.drop) {
      throw new SnapshotTransferError(`snapshot from ${from} to ${to} was lost`);
    }
    const msg = this.wire ? decodeMessage(encodeMessage(message)) : message;
    await target.receiveSnapshot(msg, data);
  }
}

/**
 * One member's endpoint on a MemoryNetwork; implements `Transport`. Messages arrive at the
 * handler in batches of one; snapshot data is streamed from the sender's iterable to the
 * receiver's handler.
 */
export class MemoryTransport implements Transport {
  private handler: TransportHandler | undefined;
  private closed = false;
  private readonly network: MemoryNetwork;
  readonly id: NodeId;

  constructor(network: MemoryNetwork, id: NodeId) {
    this.network = network;
    this.id = id;
  }

  async start(handler: TransportHandler): Promise<void> {
    this.handler = handler;
    this.closed = false;
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    this.network.route(this.id, messages);
  }

  async sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.closed) throw new StoppedError("the transport is closed");
    await this.network.routeSnapshot(this.id, message, data);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
  }

  /** @internal */
  receive(m: Message): void {
    if (this.closed || this.handler === undefined) return;
    this.handler.onMessages([m]);
  }

  /** @internal */
  async receiveSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.closed || this.handler === undefined) {
      throw new SnapshotTransferError(`member ${this.id} is not receiving`);
    }
    await this.handler.onSnapshot(m, data);
  }
}
