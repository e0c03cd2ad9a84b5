import { InvalidConfChangeError } from "./errors.js";
import type { TrackerConfig } from "./progress-tracker.js";
import { JointConfig } from "./quorum.js";
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  type NodeId,
} from "./types.js";

/** The single-member form as a ConfChangeV2 with one change and the automatic transition. */
export function confChangeToV2(cc: ConfChange): ConfChangeV2 {
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/** True for the change that leaves a joint configuration: no changes, automatic transition. */
export function wantsLeaveJoint(cc: ConfChangeV2): boolean {
  return cc.changes.length === 0 && cc.transition === ConfChangeTransition.Auto;
}

/**
 * Whether a change goes through a joint configuration (Raft thesis §4.3) and whether it is
 * left automatically; undefined for a simple change (at most one voter changes).
 */
export function jointMode(cc: ConfChangeV2): { autoLeave: boolean } | undefined {
  if (cc.transition === ConfChangeTransition.Auto && cc.changes.length <= 1) return undefined;
  return { autoLeave: cc.transition !== ConfChangeTransition.JointExplicit };
}

interface MutableConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

function mutable(cfg: TrackerConfig): MutableConfig {
  return {
    incoming: new Set(cfg.voters.incoming.ids),
    outgoing: new Set(cfg.voters.outgoing.ids),
    learners: new Set(cfg.learners),
    learnersNext: new Set(cfg.learnersNext),
    autoLeave: cfg.autoLeave,
  };
}

function frozen(m: MutableConfig): TrackerConfig {
  return {
    voters: new JointConfig(m.incoming, m.outgoing),
    learners: m.learners,
    learnersNext: m.learnersNext,
    autoLeave: m.autoLeave,
  };
}

function apply(m: MutableConfig, changes: readonly ConfChangeSingle[]): void {
  for (const c of changes) {
    const id = c.nodeId;
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new InvalidConfChangeError(`invalid member id ${String(id)}`);
    }
    switch (c.type) {
      case ConfChangeType.AddNode:
        m.incoming.add(id);
        m.learners.delete(id);
        m.learnersNext.delete(id);
        break;
      case ConfChangeType.AddLearnerNode:
        if (m.learners.has(id)) break;
        m.incoming.delete(id);
        // A voter of the outgoing half stays a voter until the joint state is left; only
        // then does it become a learner.
        if (m.outgoing.has(id)) m.learnersNext.add(id);
        else m.learners.add(id);
        break;
      case ConfChangeType.RemoveNode:
        m.incoming.delete(id);
        m.learners.delete(id);
        m.learnersNext.delete(id);
        break;
      case ConfChangeType.UpdateNode:
        break;
      default:
        throw new InvalidConfChangeError(`unknown configuration change type ${String(c.type)}`);
    }
  }
  if (m.incoming.size === 0) {
    throw new InvalidConfChangeError("the change would remove every voter");
  }
}

function checkInvariants(m: MutableConfig): void {
  for (const id of m.learners) {
    if (m.incoming.has(id) || m.outgoing.has(id)) {
      throw new InvalidConfChangeError(`member ${id} would be both a voter and a learner`);
    }
  }
  for (const id of m.learnersNext) {
    if (!m.outgoing.has(id)) {
      throw new InvalidConfChangeError(`member ${id} is in learnersNext but not an outgoing voter`);
    }
  }
}

/**
 * Applies a simple change: at most one voter may be added or removed, which keeps every
 * majority of the old voters intersecting every majority of the new ones (Raft thesis §4.1).
 */
export function applySimple(
  cfg: TrackerConfig,
  changes: readonly ConfChangeSingle[],
): TrackerConfig {
  if (cfg.voters.isJoint) {
    throw new InvalidConfChangeError("cannot apply a simple change in a joint configuration");
  }
  const m = mutable(cfg);
  apply(m, changes);
  let changed = 0;
  for (const id of m.incoming) if (!cfg.voters.incoming.has(id)) changed++;
  for (const id of cfg.voters.incoming.ids) if (!m.incoming.has(id)) changed++;
  if (changed > 1) {
    throw new InvalidConfChangeError(
      "more than one voter changed without joint consensus; use a ConfChangeV2 with a joint transition",
    );
  }
  checkInvariants(m);
  return frozen(m);
}

/** Enters a joint configuration: the old voters become the outgoing half. */
export function enterJoint(
  cfg: TrackerConfig,
  autoLeave: boolean,
  changes: readonly ConfChangeSingle[],
): TrackerConfig {
  if (cfg.voters.isJoint) {
    throw new InvalidConfChangeError("already in a joint configuration");
  }
  if (cfg.voters.incoming.size === 0) {
    throw new InvalidConfChangeError("cannot enter a joint configuration with no voters");
  }
  const m = mutable(cfg);
  m.outgoing = new Set(m.incoming);
  apply(m, changes);
  m.autoLeave = autoLeave;
  checkInvariants(m);
  return frozen(m);
}

/** Leaves a joint configuration: the incoming half alone decides from now on. */
export function leaveJoint(cfg: TrackerConfig): TrackerConfig {
  if (!cfg.voters.isJoint) {
    throw new InvalidConfChangeError("not in a joint configuration");
  }
  const m = mutable(cfg);
  for (const id of m.learnersNext) m.learners.add(id);
  m.learnersNext.clear();
  m.outgoing.clear();
  m.autoLeave = false;
  checkInvariants(m);
  return frozen(m);
}

/** Applies any ConfChangeV2 to a configuration; throws InvalidConfChangeError when it does not fit. */
export function applyConfChangeTo(cfg: TrackerConfig, cc: ConfChangeV2): TrackerConfig {
  if (wantsLeaveJoint(cc)) return leaveJoint(cfg);
  const joint = jointMode(cc);
  if (joint === undefined) return applySimple(cfg, cc.changes);
  return enterJoint(cfg, joint.autoLeave, cc.changes);
}
