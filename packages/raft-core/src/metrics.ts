import { Counter, Gauge, type Registry } from "prom-client";
import type { NodeId } from "./types.js";

/** Outcomes counted by `raft_proposals_total`. */
export type ProposalResult = "applied" | "dropped" | "refused";

/** The metrics a RaftNode keeps, registered in a caller's prom-client registry. */
export interface RaftMetrics {
  setTerm(term: number): void;
  setCommit(index: number): void;
  setApplied(index: number): void;
  setLeader(isLeader: boolean): void;
  leaderChanged(): void;
  proposals(result: ProposalResult, count?: number): void;
}

/**
 * Registers raftkv's Raft metrics (prefix `raft_`, label `member`) in `registry`, or
 * reuses them when another member in the same process registered them already.
 */
export function createRaftMetrics(registry: Registry, id: NodeId): RaftMetrics {
  const member = String(id);
  const gauge = (name: string, help: string): Gauge<"member"> =>
    (registry.getSingleMetric(name) as Gauge<"member"> | undefined) ??
    new Gauge({ name, help, labelNames: ["member"], registers: [registry] });
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] });
  const term = gauge("raft_term", "The current Raft term.");
  const commit = gauge("raft_commit_index", "The highest log index known committed.");
  const applied = gauge(
    "raft_applied_index",
    "The highest log index applied to the state machine.",
  );
  const leader = gauge("raft_is_leader", "1 while this member is the leader, else 0.");
  const changes = counter("raft_leader_changes_total", "Changes of leader seen by this member.", [
    "member",
  ]);
  const proposals = counter(
    "raft_proposals_total",
    "Proposals by outcome: applied, dropped (overwritten by a new leader) or refused.",
    ["member", "result"],
  );
  return {
    setTerm: (v) => term.set({ member }, v),
    setCommit: (v) => commit.set({ member }, v),
    setApplied: (v) => applied.set({ member }, v),
    setLeader: (v) => leader.set({ member }, v ? 1 : 0),
    leaderChanged: () => changes.inc({ member }),
    proposals: (result, count = 1) => proposals.inc({ member, result }, count),
  };
}
