import type { Message } from "@raftkv/proto/raft";
import { check, expectEqual } from "../harness/expect.js";
import type { FakeLeader } from "./fake-leader.js";
import { describeMessage } from "./raft-messages.js";
import type { RaftRequirement, ScriptedCluster } from "./scripted-cluster.js";

/**
 * One Raft peer protocol check: a rule of the Raft paper, the thesis or etcd-io/raft,
 * and a script that drives the member under test through its fake peers to verify it.
 * Every case begins on a fresh member (a new data dir) when the suite starts members
 * itself, and on the member as the previous case left it with `--target`.
 */
export interface RaftCase {
  /** Dotted, stable, unique: `raft.vote.lower-term-refused`. */
  readonly name: string;
  /** The rule checked, in a sentence or two a reader can hold against the reference. */
  readonly behaviour: string;
  /** Raft paper section, thesis section, or etcd-io/raft source the rule comes from. */
  readonly reference: string;
  /** What the case needs beyond the core rules; it is skipped without them. */
  readonly requires?: readonly RaftRequirement[];
  run(cluster: ScriptedCluster): Promise<void>;
}

/** Fails unless `answer` grants the (pre-)vote, in `term` (a grant names the requested term). */
export function expectGranted(answer: Message, term: bigint, what: string): void {
  check(!answer.reject, `${what}: expected a grant, got ${describeMessage(answer)}`);
  check(
    answer.term === term,
    `${what}: a grant must carry the requested term ${term}, got ${describeMessage(answer)}`,
  );
}

/** Fails unless `answer` refuses the (pre-)vote; with `term`, in that term (the member's). */
export function expectRefused(answer: Message, term: bigint | undefined, what: string): void {
  check(answer.reject, `${what}: expected a refusal, got ${describeMessage(answer)}`);
  if (term !== undefined) {
    check(
      answer.term === term,
      `${what}: the refusal must carry the member's term ${term}, got ${describeMessage(answer)}`,
    );
  }
}

/** Fails unless `answer` accepts an append, naming `index` as its last new entry. */
export function expectAccepted(answer: Message, index: bigint, what: string): void {
  check(!answer.reject, `${what}: expected acceptance, got ${describeMessage(answer)}`);
  expectEqual(answer.index, index, `${what}: the index the acceptance names (its last new entry)`);
}

/**
 * Sends all of `leader`'s entries in one append after its base (the member's last entry
 * when the case began) and fails unless the member accepts them.
 */
export async function replicateFromBase(
  leader: FakeLeader,
  what: string,
  commit = 0n,
): Promise<void> {
  expectAccepted(
    await leader.append({ prevIndex: leader.base.index, commit }),
    leader.last.index,
    what,
  );
}
