import type {
  Message,
  NodeId,
  PeerDirectory,
  Transport,
  TransportHandler,
} from "@raftkv/raft-core";
import { InvalidTransportOptionError, TransportError } from "./errors.js";
import { seededRandom } from "./seeded-random.js";

/** What happens to messages sent to one peer (or to every peer, as the default rule). */
export interface FaultRule {
  /** Probability in [0, 1] that a message is dropped. */
  dropRate: number;
  /** Probability in [0, 1] that a message is sent twice. */
  duplicateRate: number;
  /** Every message waits this long before it is sent. */
  delayMs: number;
  /** Plus a uniformly random extra delay in [0, delayJitterMs), which also reorders. */
  delayJitterMs: number;
}

/** The injector's whole configuration, as JSON for a test endpoint. */
export interface FaultState {
  seed: number;
  /** Peers cut off in both directions. */
  partitioned: NodeId[];
  /** Rule for peers without their own. */
  defaultRule: FaultRule;
  /** Rules per peer. */
  rules: Record<string, FaultRule>;
  dropped: number;
  duplicated: number;
  delayed: number;
}

export interface FaultInjectorOptions {
  /** Seed of the random choices, for replayable runs. Default 1. */
  seed?: number;
  /** Messages waiting on a delay at once; beyond it they are dropped. Default 10000. */
  maxDelayedMessages?: number;
}

/** A snapshot transfer or message was refused because the injector partitions the pair. */
export class PartitionedError extends TransportError {
  readonly code = "TRANSPORT_PARTITIONED";
  constructor(readonly peer: NodeId) {
    super(`member ${peer} is partitioned away by fault injection`);
  }
}

const NO_FAULT: FaultRule = { dropRate: 0, duplicateRate: 0, delayMs: 0, delayJitterMs: 0 };

function checkRate(name: string, rate: number): void {
  if (!(rate >= 0 && rate <= 1))
    throw new InvalidTransportOptionError(name, `must be in [0, 1], got ${rate}`);
}

function checkMs(name: string, ms: number): void {
  if (!(Number.isFinite(ms) && ms >= 0)) {
    throw new InvalidTransportOptionError(name, `must be a non-negative number, got ${ms}`);
  }
}

/**
 * Wraps a transport with faults for tests and `raftkv dev`: partitions (both directions,
 * from this member's side of each pair), and per-peer drop, duplicate and delay (with
 * jitter, which reorders) on outgoing messages. Controlled at runtime, e.g. from a
 * test-only HTTP endpoint. Every member enforcing its own side is enough to partition
 * a multi-process cluster: `partition([3])` on members 1 and 2 isolates member 3.
 */
export class FaultInjectingTransport implements Transport, PeerDirectory, AsyncDisposable {
  private readonly partitioned = new Set<NodeId>();
  private readonly rules = new Map<NodeId, FaultRule>();
  private defaultRule: FaultRule = NO_FAULT;
  private random: () => number;
  private seed: number;
  private readonly maxDelayed: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private dropped = 0;
  private duplicated = 0;
  private delayed = 0;

  constructor(
    private readonly inner: Transport & PeerDirectory,
    options: FaultInjectorOptions = {},
  ) {
    this.seed = options.seed ?? 1;
    this.random = seededRandom(this.seed);
    this.maxDelayed = options.maxDelayedMessages ?? 10_000;
  }

  start(handler: TransportHandler): Promise<void> {
    return this.inner.start({
      onMessages: (messages) => {
        const allowed =
          this.partitioned.size === 0
            ? messages
            : messages.filter((m) => !this.partitioned.has(m.from));
        this.dropped += messages.length - allowed.length;
        if (allowed.length > 0) handler.onMessages(allowed);
      },
      onSnapshot: (message, data) => {
        if (this.partitioned.has(message.from))
          return Promise.reject(new PartitionedError(message.from));
        return handler.onSnapshot(message, data);
      },
    });
  }

  send(messages: readonly Message[]): void {
    const now: Message[] = [];
    for (const message of messages) {
      if (this.partitioned.has(message.to)) {
        this.dropped++;
        continue;
      }
      const rule = this.rules.get(message.to) ?? this.defaultRule;
      if (rule.dropRate > 0 && this.random() < rule.dropRate) {
        this.dropped++;
        continue;
      }
      const copies = rule.duplicateRate > 0 && this.random() < rule.duplicateRate ? 2 : 1;
      if (copies === 2) this.duplicated++;
      for (let c = 0; c < copies; c++) {
        if (rule.delayMs === 0 && rule.delayJitterMs === 0) now.push(message);
        else this.later(message, rule.delayMs + this.random() * rule.delayJitterMs);
      }
    }
    if (now.length > 0) this.inner.send(now);
  }

  sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.partitioned.has(message.to)) return Promise.reject(new PartitionedError(message.to));
    return this.inner.sendSnapshot(message, data);
  }

  addPeer(id: NodeId, urls: readonly string[]): void {
    this.inner.addPeer(id, urls);
  }

  removePeer(id: NodeId): void {
    this.inner.removePeer(id);
  }

  /** Cuts this member off from `peers`, both directions, until healed. */
  partition(peers: Iterable<NodeId>): void {
    for (const peer of peers) this.partitioned.add(peer);
  }

  /** Ends the partition with `peers`, or with every peer when none are given. */
  heal(peers?: Iterable<NodeId>): void {
    if (peers === undefined) this.partitioned.clear();
    else for (const peer of peers) this.partitioned.delete(peer);
  }

  /** Drops each message to `peer` (default: every peer without its own rule) with probability `rate`. */
  setDropRate(rate: number, peer?: NodeId): void {
    checkRate("dropRate", rate);
    this.update(peer, { dropRate: rate });
  }

  /** Sends each message to `peer` twice with probability `rate`. */
  setDuplicateRate(rate: number, peer?: NodeId): void {
    checkRate("duplicateRate", rate);
    this.update(peer, { duplicateRate: rate });
  }

  /** Delays each message to `peer` by `delayMs` plus up to `jitterMs`. */
  setDelay(delayMs: number, jitterMs = 0, peer?: NodeId): void {
    checkMs("delayMs", delayMs);
    checkMs("jitterMs", jitterMs);
    this.update(peer, { delayMs, delayJitterMs: jitterMs });
  }

  /** Removes every fault (partitions and rules) and restarts the random sequence from `seed`. */
  reset(seed = this.seed): void {
    this.partitioned.clear();
    this.rules.clear();
    this.defaultRule = NO_FAULT;
    this.seed = seed;
    this.random = seededRandom(seed);
  }

  state(): FaultState {
    return {
      seed: this.seed,
      partitioned: [...this.partitioned].sort((a, b) => a - b),
      defaultRule: { ...this.defaultRule },
      rules: Object.fromEntries([...this.rules].map(([peer, rule]) => [String(peer), { ...rule }])),
      dropped: this.dropped,
      duplicated: this.duplicated,
      delayed: this.delayed,
    };
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.inner.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private update(peer: NodeId | undefined, change: Partial<FaultRule>): void {
    if (peer === undefined) {
      this.defaultRule = { ...this.defaultRule, ...change };
      return;
    }
    this.rules.set(peer, { ...(this.rules.get(peer) ?? this.defaultRule), ...change });
  }

  private later(message: Message, ms: number): void {
    if (this.timers.size >= this.maxDelayed) {
      this.dropped++;
      return;
    }
    this.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // A partition that began while the message waited still applies.
      if (this.partitioned.has(message.to)) {
        this.dropped++;
        return;
      }
      this.inner.send([message]);
    }, ms);
    this.timers.add(timer);
  }
}
