import type { Rng } from "../rng.js";
import type { Message, NodeId } from "../types.js";

/** How unreliable the simulated network is; probabilities are per message. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  drop: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Delivery takes 0..maxDelay steps, so messages overtake each other. */
  maxDelay: number;
  /** Probability of a long delay (maxDelay..longDelay steps): a straggler from the past. */
  longDelayRate: number;
  longDelay: number;
}

export const RELIABLE: NetworkFaults = {
  drop: 0,
  duplicate: 0,
  maxDelay: 1,
  longDelayRate: 0,
  longDelay: 0,
};

/** A message in flight, with the state-machine snapshot it carries if it is a snapshot. */
export interface InFlight {
  msg: Message;
  deliverAt: number;
  snapshotData?: SnapshotPayload | undefined;
}

/** The simulated state machine's snapshot: its position and its hash chain value there. */
export interface SnapshotPayload {
  index: number;
  hash: number;
}

/**
 * A deterministic network for the simulator: every message gets a delivery step drawn
 * from the seeded RNG (so messages reorder), may be dropped or duplicated, and is lost
 * when its link is cut at delivery time. Links are directed, so partitions can be
 * asymmetric.
 */
export class SimNetwork {
  faults: NetworkFaults;
  private inFlight: InFlight[] = [];
  private readonly blocked = new Set<number>();
  private readonly rng: Rng;
  /** Counters, for the summary line. */
  sent = 0;
  dropped = 0;

  constructor(rng: Rng, faults: NetworkFaults) {
    this.rng = rng;
    this.faults = faults;
  }

  private static link(from: NodeId, to: NodeId): number {
    return from * 1024 + to;
  }

  send(now: number, msg: Message, snapshotData?: SnapshotPayload): void {
    this.sent++;
    const f = this.faults;
    if (f.drop > 0 && this.rng.nextFloat() < f.drop) {
      this.dropped++;
      return;
    }
    const copies = f.duplicate > 0 && this.rng.nextFloat() < f.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let delay = this.rng.nextInt(f.maxDelay + 1);
      if (f.longDelayRate > 0 && this.rng.nextFloat() < f.longDelayRate) {
        delay = f.maxDelay + this.rng.nextInt(Math.max(1, f.longDelay - f.maxDelay));
      }
      this.inFlight.push({ msg, deliverAt: now + delay, snapshotData });
    }
  }

  /**
   * Removes and returns the messages due at `now`, in a random order, except those whose
   * link is cut (they are lost; `onLost` hears of them).
   */
  due(now: number, onLost: (f: InFlight) => void): InFlight[] {
    const out: InFlight[] = [];
    const keep: InFlight[] = [];
    for (const f of this.inFlight) {
      if (f.deliverAt > now) keep.push(f);
      else if (this.blocked.has(SimNetwork.link(f.msg.from, f.msg.to))) {
        this.dropped++;
        onLost(f);
      } else out.push(f);
    }
    this.inFlight = keep;
    // Fisher-Yates with the simulation's RNG: delivery order is part of the schedule.
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.nextInt(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** Drops everything in flight (the last moment of a faulty period); `onLost` hears of each. */
  dropInFlight(onLost: (f: InFlight) => void): void {
    const lost = this.inFlight;
    this.inFlight = [];
    this.dropped += lost.length;
    for (const f of lost) onLost(f);
  }

  get pending(): number {
    return this.inFlight.length;
  }

  cut(from: NodeId, to: NodeId): void {
    this.blocked.add(SimNetwork.link(from, to));
  }

  /** Splits members into groups that cannot reach each other. */
  partition(groups: NodeId[][]): void {
    this.blocked.clear();
    for (const g of groups) {
      for (const h of groups) {
        if (g === h) continue;
        for (const a of g) for (const b of h) this.cut(a, b);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  isHealed(): boolean {
    return this.blocked.size === 0;
  }

  describeCuts(): string {
    return [...this.blocked]
      .map((l) => `${Math.floor(l / 1024)}>${l % 1024}`)
      .sort()
      .join(",");
  }
}
