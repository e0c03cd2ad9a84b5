import { Progress } from "./progress.js";
import { JointConfig, type VoteResult } from "./quorum.js";
import type { ConfState, NodeId } from "./types.js";

/** The membership a leader replicates to and counts quorums in. */
export interface TrackerConfig {
  voters: JointConfig;
  /** Members that receive the log but do not vote. Disjoint from the voters. */
  learners: ReadonlySet<NodeId>;
  /**
   * Members that become learners when the joint configuration is left. They are still
   * voters of the outgoing half until then, so they cannot also be in `learners`.
   */
  learnersNext: ReadonlySet<NodeId>;
  /** Leave the joint configuration automatically once it is committed. */
  autoLeave: boolean;
}

/** Builds a TrackerConfig from the wire form. */
export function trackerConfigFromConfState(cs: ConfState): TrackerConfig {
  return {
    voters: new JointConfig(cs.voters, cs.votersOutgoing),
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
}

/** The wire form of a TrackerConfig, with every id list sorted. */
export function confStateFromTrackerConfig(cfg: TrackerConfig): ConfState {
  const sorted = (ids: Iterable<NodeId>): NodeId[] => [...ids].sort((a, b) => a - b);
  return {
    voters: [...cfg.voters.incoming.ids],
    learners: sorted(cfg.learners),
    votersOutgoing: [...cfg.voters.outgoing.ids],
    learnersNext: sorted(cfg.learnersNext),
    autoLeave: cfg.autoLeave,
  };
}

/**
 * The leader's bookkeeping for the whole membership: each member's Progress, the votes
 * of the current election, and the quorum rules of the current configuration.
 */
export class ProgressTracker {
  config: TrackerConfig;
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  // Bound once so that the quorum computations on the hot path allocate no closures.
  private readonly matchOf = (id: NodeId): number | undefined => this.progress.get(id)?.match;
  private readonly voteOf = (id: NodeId): boolean | undefined => this.votes.get(id);
  private readonly lastActiveOf = (id: NodeId): number | undefined =>
    this.progress.get(id)?.lastActiveTick;

  constructor(maxInflightMsgs: number, maxInflightBytes: number) {
    this.maxInflightMsgs = maxInflightMsgs;
    this.maxInflightBytes = maxInflightBytes;
    this.config = trackerConfigFromConfState({
      voters: [],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    });
  }

  /**
   * Replaces the configuration. Members that are new get a fresh Progress starting at
   * `nextIndex`, counted as heard from at `nowTick` (a grace period, so that check-quorum
   * does not depose the leader before a new member had a chance to answer); members that
   * left are forgotten; the others keep their Progress.
   */
  setConfig(config: TrackerConfig, nextIndex: number, nowTick = 0): void {
    this.config = config;
    const members = new Set<NodeId>([...config.voters.ids(), ...config.learners]);
    for (const id of this.progress.keys()) {
      if (!members.has(id)) this.progress.delete(id);
    }
    for (const id of members) {
      const isLearner = config.learners.has(id);
      const pr = this.progress.get(id);
      if (pr === undefined) {
        const fresh = new Progress(
          nextIndex,
          this.maxInflightMsgs,
          this.maxInflightBytes,
          isLearner,
        );
        fresh.lastActiveTick = nowTick;
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      } else {
        pr.isLearner = isLearner;
      }
    }
  }

  confState(): ConfState {
    return confStateFromTrackerConfig(this.config);
  }

  /** True when the only voter is one member and no joint configuration is in effect. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !this.config.voters.isJoint;
  }

  /** The largest index a quorum of voters has acknowledged. */
  committed(): number {
    return this.config.voters.committedIndex(this.matchOf);
  }

  /**
   * The latest tick at which a quorum of voters had all been heard from: the quorum-th
   * most recent `lastActiveTick` (the leader keeps its own at the current tick).
   */
  quorumActiveTick(): number {
    return this.config.voters.committedIndex(this.lastActiveOf);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records the first vote of `id` in this election; later ones are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  voteResult(): VoteResult {
    return this.config.voters.voteResult(this.voteOf);
  }

  /** Counts the granted and rejected votes of current voters. */
  tally(): { granted: number; rejected: number } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.config.voters.ids()) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected };
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.has(id);
  }
}
