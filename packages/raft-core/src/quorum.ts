import type { NodeId } from "./types.js";

/** The outcome of counting votes in a configuration. */
export const VoteResult = {
  /** Not decided yet: more votes could still tip it either way. */
  Pending: 0,
  /** A quorum rejected; no remaining votes can make it win. */
  Lost: 1,
  /** A quorum granted. */
  Won: 2,
} as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/**
 * A set of voters that decides by simple majority. An empty configuration agrees to
 * everything (committed index `Infinity`, every vote won), which is what makes a joint
 * configuration with an empty outgoing half behave like its incoming half alone.
 */
export class MajorityConfig {
  readonly ids: readonly NodeId[];
  // Reused by committedIndex so that the hot path (one call per append response) does not allocate.
  private readonly scratch: number[];

  constructor(ids: Iterable<NodeId>) {
    this.ids = [...new Set(ids)].sort((a, b) => a - b);
    this.scratch = new Array<number>(this.ids.length).fill(0);
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: NodeId): boolean {
    return this.ids.includes(id);
  }

  /**
   * The largest index that a majority of voters have acknowledged, given each voter's
   * acknowledged index (`undefined` counts as 0).
   */
  committedIndex(acked: (id: NodeId) => number | undefined): number {
    const n = this.ids.length;
    if (n === 0) return Number.POSITIVE_INFINITY;
    const a = this.scratch;
    for (let i = 0; i < n; i++) {
      const v = acked(this.ids[i]!) ?? 0;
      // Insertion sort, descending: n is the voter count, a handful in practice.
      let j = i;
      while (j > 0 && a[j - 1]! < v) {
        a[j] = a[j - 1]!;
        j--;
      }
      a[j] = v;
    }
    return a[(n >> 1) + 1 - 1]!;
  }

  /** Counts granted (`true`), rejected (`false`) and missing (`undefined`) votes. */
  voteResult(vote: (id: NodeId) => boolean | undefined): VoteResult {
    const n = this.ids.length;
    if (n === 0) return VoteResult.Won;
    let granted = 0;
    let missing = 0;
    for (const id of this.ids) {
      const v = vote(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }
    const quorum = (n >> 1) + 1;
    if (granted >= quorum) return VoteResult.Won;
    if (granted + missing >= quorum) return VoteResult.Pending;
    return VoteResult.Lost;
  }
}

/**
 * The configuration that decides: the incoming voters alone, or, during joint consensus
 * (Raft thesis §4.3), the incoming and the outgoing voters, each by its own majority.
 */
export class JointConfig {
  readonly incoming: MajorityConfig;
  readonly outgoing: MajorityConfig;

  constructor(incoming: Iterable<NodeId>, outgoing: Iterable<NodeId> = []) {
    this.incoming = new MajorityConfig(incoming);
    this.outgoing = new MajorityConfig(outgoing);
  }

  get isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  /** Every voter of either half, each once, in ascending order. */
  ids(): NodeId[] {
    if (!this.isJoint) return [...this.incoming.ids];
    return [...new Set([...this.incoming.ids, ...this.outgoing.ids])].sort((a, b) => a - b);
  }

  has(id: NodeId): boolean {
    return this.incoming.has(id) || this.outgoing.has(id);
  }

  /** The largest index both halves have committed; 0 when there are no voters at all. */
  committedIndex(acked: (id: NodeId) => number | undefined): number {
    const a = this.incoming.committedIndex(acked);
    const b = this.outgoing.committedIndex(acked);
    const c = Math.min(a, b);
    return c === Number.POSITIVE_INFINITY ? 0 : c;
  }

  /** Won only if both halves won; lost if either lost. */
  voteResult(vote: (id: NodeId) => boolean | undefined): VoteResult {
    const a = this.incoming.voteResult(vote);
    const b = this.outgoing.voteResult(vote);
    if (a === b) return a;
    if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
    return VoteResult.Pending;
  }
}
