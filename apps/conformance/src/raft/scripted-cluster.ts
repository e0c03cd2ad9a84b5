import { setTimeout as sleep } from "node:timers/promises";
import type { StatusResponse } from "@raftkv/proto/etcd";
import { type Message, MessageType } from "@raftkv/proto/raft";
import { ConformanceAssertionError } from "../errors.js";
import { check } from "../harness/expect.js";
import { FakeLeader, type LogPosition } from "./fake-leader.js";
import type { FakePeer, ReceivedMessage } from "./fake-peer.js";
import type { NodeUnderTest } from "./node-under-test.js";
import { describeMessage, isVoteRequest, raftMessage, typeName } from "./raft-messages.js";

/**
 * What a case may need beyond the core Raft rules. A case whose needs are not met is
 * skipped, with the reason.
 *
 * - `restart`: the suite started the member and can SIGKILL and restart it.
 * - `pre-vote`: the member implements pre-vote (Raft thesis §9.6).
 * - `check-quorum`: the member implements check-quorum and its leader lease (thesis
 *   §6.2 and §4.2.3, etcd's CheckQuorum): a follower that heard from its leader within
 *   the election timeout does not help depose it.
 * - `raftkv-entries`: log entries carry raftkv's `raftkv.kv.v1.KvRequest`, so a put the
 *   fake leader commits shows up in the member's KV store.
 */
export type RaftRequirement = "restart" | "pre-vote" | "check-quorum" | "raftkv-entries";

/** The requirements a member may declare it lacks (`--without`). */
export const optionalRaftFeatures = ["pre-vote", "check-quorum", "raftkv-entries"] as const;
export type OptionalRaftFeature = (typeof optionalRaftFeatures)[number];

/** A (pre-)vote request the member sent: what it reveals about its state. */
export interface Campaign {
  readonly type: MessageType.PRE_VOTE | MessageType.VOTE;
  /** The term the member is in: a pre-vote asks about the next one without entering it. */
  readonly nodeTerm: bigint;
  /** Its last log entry. */
  readonly last: LogPosition;
}

/** The member's Raft timing, which the fake peers follow. */
export interface RaftTiming {
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
}

/** What `ScriptedCluster.discover` needs. */
export interface DiscoverOptions {
  readonly node: NodeUnderTest;
  /** The fake peers, listening, named in the member's --initial-cluster. */
  readonly peers: readonly FakePeer[];
  readonly timing: RaftTiming;
  readonly available: ReadonlySet<RaftRequirement>;
  readonly signal: AbortSignal;
}

/** A vote request a fake peer sends as a candidate (or pre-candidate). */
export interface VoteRequest {
  readonly term: bigint;
  /** The candidate's last entry. */
  readonly last: LogPosition;
  readonly preVote?: boolean;
}

/**
 * The context of every Raft peer case: one member under test, the fake peers that make
 * up the rest of its cluster, and the steps scripts are written in. Ids are learned
 * black-box: from the first (pre-)vote requests the member sends each fake peer, cross
 * checked against its Maintenance.Status header.
 */
export class ScriptedCluster {
  readonly node: NodeUnderTest;
  readonly peers: readonly FakePeer[];
  readonly timing: RaftTiming;
  readonly signal: AbortSignal;
  readonly nodeId: bigint;
  readonly clusterId: bigint;
  /** The campaign seen when the case began: the member's term and last entry then. */
  readonly start: Campaign;
  /** How long a step waits for one answer from the member. */
  readonly responseTimeoutMs: number;
  private readonly available: ReadonlySet<RaftRequirement>;
  private readonly leaders: FakeLeader[] = [];

  private constructor(
    options: DiscoverOptions,
    ids: { nodeId: bigint; clusterId: bigint },
    start: Campaign,
  ) {
    this.node = options.node;
    this.peers = options.peers;
    this.timing = options.timing;
    this.signal = options.signal;
    this.available = options.available;
    this.nodeId = ids.nodeId;
    this.clusterId = ids.clusterId;
    this.start = start;
    // Generous: the member may be descheduled for seconds on a busy machine.
    this.responseTimeoutMs = Math.max(10_000, 5 * options.timing.electionTimeoutMs);
  }

  /**
   * Waits until the member campaigns (it does once its election timeout passes without
   * a leader) and learns from those requests each fake peer's id, the member's id and
   * cluster id, its term and its last log entry.
   *
   * @throws ConformanceAssertionError when no campaign reaches every fake peer in time,
   * when the batches disagree on the member's or cluster's id, or when Maintenance.Status
   * names another member or cluster than the peer protocol does.
   */
  static async discover(options: DiscoverOptions): Promise<ScriptedCluster> {
    const timeoutMs = campaignTimeoutMs(options.timing);
    let firsts: ReceivedMessage[];
    try {
      firsts = await Promise.all(
        options.peers.map((peer) =>
          peer.waitFor((m) => isVoteRequest(m.type), "a (pre-)vote request from the member", {
            timeoutMs,
            signal: options.signal,
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConformanceAssertionError)) throw error;
      throw new ConformanceAssertionError(
        `the member did not campaign to every fake peer: ${error.message}; ${await describeState(options)}`,
        { cause: error },
      );
    }
    const first = firsts.reduce((a, b) => (a.seq <= b.seq ? a : b));
    for (const [i, received] of firsts.entries()) {
      const peer = options.peers[i]!;
      check(
        received.from === first.from && received.clusterId === first.clusterId,
        `the member sent ${peer.name} batches from member ${received.from} of cluster ${received.clusterId}, but ${options.peers[0]!.name} from member ${first.from} of cluster ${first.clusterId}`,
      );
      peer.id = received.to;
    }
    const ids = new Set(options.peers.map((p) => p.id));
    check(
      ids.size === options.peers.length && !ids.has(first.from) && !ids.has(0n),
      `the member addressed its fake peers as ${[...options.peers.map((p) => p.id)].join(", ")} (itself ${first.from}): ids must be distinct and non-zero`,
    );
    for (const peer of options.peers) {
      peer.setRoute({
        nodeUrl: options.node.peerUrl,
        nodeId: first.from,
        clusterId: first.clusterId,
      });
    }
    const status = await options.node.client.maintenance.status({});
    check(
      status.header?.memberId === first.from,
      `Maintenance.Status names member ${status.header?.memberId}, but the member sends peer messages as ${first.from}`,
    );
    check(
      status.header?.clusterId === first.clusterId,
      `Maintenance.Status names cluster ${status.header?.clusterId}, but the member's peer batches carry cluster ${first.clusterId}`,
    );
    return new ScriptedCluster(
      options,
      { nodeId: first.from, clusterId: first.clusterId },
      campaignOf(first.message),
    );
  }

  /** Whether the member (and the way the suite runs it) offers `requirement`. */
  has(requirement: RaftRequirement): boolean {
    return this.available.has(requirement);
  }

  /** The member's Maintenance.Status. */
  status(): Promise<StatusResponse> {
    return this.node.client.maintenance.status({}, { signal: this.signal });
  }

  /** The member's current term, from Maintenance.Status. */
  async term(): Promise<bigint> {
    return (await this.status()).raftTerm;
  }

  /**
   * Polls Maintenance.Status until `predicate` holds and returns that status.
   *
   * @throws ConformanceAssertionError naming `what` and the last status when it never
   * holds within `timeoutMs` (default: the response timeout).
   */
  async waitForStatus(
    predicate: (status: StatusResponse) => boolean,
    what: string,
    timeoutMs: number = this.responseTimeoutMs,
  ): Promise<StatusResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (predicate(status)) return status;
      if (Date.now() > deadline || this.signal.aborted) {
        throw new ConformanceAssertionError(
          `${what}: not so after ${timeoutMs} ms; Status says term ${status.raftTerm}, leader ${status.leader}, commit (raft_index) ${status.raftIndex}, applied ${status.raftAppliedIndex}`,
        );
      }
      await sleep(Math.min(100, this.timing.heartbeatIntervalMs));
    }
  }

  /** The (pre-)vote request `peer` sends as a candidate with `request`. */
  voteRequest(peer: FakePeer, request: VoteRequest): Message {
    return raftMessage(request.preVote === true ? MessageType.PRE_VOTE : MessageType.VOTE, {
      from: peer.id,
      to: this.nodeId,
      term: request.term,
      index: request.last.index,
      logTerm: request.last.term,
    });
  }

  /**
   * `peer` asks the member for its (pre-)vote and resolves with the answer.
   *
   * @throws ConformanceAssertionError when the member does not answer in time.
   */
  async requestVote(peer: FakePeer, request: VoteRequest): Promise<Message> {
    const message = this.voteRequest(peer, request);
    const mark = peer.mark();
    peer.send(message);
    const answer = await peer.waitFor(
      (m) => m.type === responseTypeOf(message.type),
      `an answer to ${describeMessage(message)}`,
      { after: mark, timeoutMs: this.responseTimeoutMs, signal: this.signal },
    );
    return answer.message;
  }

  /**
   * Sends `probe` from `peer` and returns the member's answer to it, or undefined when
   * it did not answer. Silence is established without guessing a delay: `probe` travels
   * in one batch with a marker (a pre-vote at term 1 from an empty log, which every
   * member answers, with a refusal), and a member answers one peer's messages in the
   * order it received them (one stream per member pair, as in etcd and raftkv), so once
   * the marker's answer is in, the probe's would be too.
   */
  async answerOrSilence(peer: FakePeer, probe: Message): Promise<Message | undefined> {
    const marker = raftMessage(MessageType.PRE_VOTE, {
      from: peer.id,
      to: this.nodeId,
      term: 1n,
    });
    const answerType = responseTypeOf(probe.type);
    const mark = peer.mark();
    peer.send(probe, marker);
    await peer.waitFor(
      (m) => m.type === MessageType.PRE_VOTE_RESPONSE,
      `an answer to the marker sent after ${describeMessage(probe)}`,
      { after: mark, timeoutMs: this.responseTimeoutMs, signal: this.signal },
    );
    // A short grace on top, so an answer sent out of order is caught rather than missed.
    await sleep(Math.max(300, 2 * this.timing.heartbeatIntervalMs));
    const answers = peer.since(mark, (m) => m.type === answerType);
    // When the probe is a pre-vote too, the marker's answer is the last one.
    const own = answerType === MessageType.PRE_VOTE_RESPONSE ? answers.slice(0, -1) : answers;
    return own[0]?.message;
  }

  /**
   * Waits for the member's next (pre-)vote request to any fake peer, sent after this
   * call: the member's election timeout passed without a leader it follows.
   *
   * @throws ConformanceAssertionError when it does not campaign in time.
   */
  async nextCampaign(): Promise<Campaign> {
    const marks = this.peers.map((peer) => peer.mark());
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, this.signal]);
    try {
      const found = await Promise.any(
        this.peers.map((peer, i) =>
          peer.waitFor((m) => isVoteRequest(m.type), "a (pre-)vote request from the member", {
            after: marks[i]!,
            timeoutMs: campaignTimeoutMs(this.timing),
            signal,
          }),
        ),
      );
      return campaignOf(found.message);
    } catch (error) {
      if (error instanceof AggregateError) throw error.errors[0];
      throw error;
    } finally {
      stop.abort();
    }
  }

  /**
   * Makes `peer` the leader of `term` with a log that extends `base` (default: the
   * member's last entry when the case began): it starts heartbeats and resolves once the
   * member answered one in `term`, i.e. it follows the new leader. Any earlier fake
   * leader stops its heartbeats first.
   */
  async lead(
    peer: FakePeer,
    term: bigint,
    base: LogPosition = this.start.last,
  ): Promise<FakeLeader> {
    for (const leader of this.leaders) leader.stop();
    const leader = new FakeLeader(
      {
        nodeId: this.nodeId,
        heartbeatIntervalMs: this.timing.heartbeatIntervalMs,
        responseTimeoutMs: this.responseTimeoutMs,
        signal: this.signal,
      },
      peer,
      term,
      base,
    );
    this.leaders.push(leader);
    const mark = peer.mark();
    leader.startHeartbeats();
    await peer.waitFor(
      (m) => m.type === MessageType.HEARTBEAT_RESPONSE && m.term === term,
      `an answer in term ${term} to the heartbeats of ${peer.name}, the new leader of term ${term}`,
      { after: mark, timeoutMs: this.responseTimeoutMs, signal: this.signal },
    );
    return leader;
  }

  /** Stops every fake leader's heartbeats. */
  silenceLeaders(): void {
    for (const leader of this.leaders) leader.stop();
  }

  /**
   * SIGKILLs the member and starts it again on its data, then reopens the fake peers'
   * streams to it. Fake leaders are silenced: they would otherwise lose their
   * heartbeats to the dead connection.
   */
  async crashAndRestart(): Promise<void> {
    this.silenceLeaders();
    await this.node.crashAndRestart();
    for (const peer of this.peers) peer.resetLinks();
  }

  /**
   * @throws ConformanceAssertionError listing every batch the member misaddressed
   * during the case.
   */
  checkAddressing(): void {
    const faults = this.peers.flatMap((p) => p.addressingFaults);
    if (faults.length > 0) {
      throw new ConformanceAssertionError(
        `the member misaddressed messages: ${faults.slice(0, 5).join("; ")}`,
      );
    }
  }

  /** Stops the fake leaders and forgets what the fake peers received. */
  reset(): void {
    this.silenceLeaders();
    for (const peer of this.peers) peer.reset();
  }
}

/** The answer type of a request type. */
export function responseTypeOf(type: MessageType): MessageType {
  switch (type) {
    case MessageType.VOTE:
      return MessageType.VOTE_RESPONSE;
    case MessageType.PRE_VOTE:
      return MessageType.PRE_VOTE_RESPONSE;
    case MessageType.APPEND:
      return MessageType.APPEND_RESPONSE;
    case MessageType.HEARTBEAT:
      return MessageType.HEARTBEAT_RESPONSE;
    default:
      throw new ConformanceAssertionError(`${typeName(type)} has no answer`);
  }
}

function campaignOf(message: Message): Campaign {
  const preVote = message.type === MessageType.PRE_VOTE;
  return {
    type: preVote ? MessageType.PRE_VOTE : MessageType.VOTE,
    nodeTerm: preVote ? message.term - 1n : message.term,
    last: { index: message.index, term: message.logTerm },
  };
}

/** What the fake peers received and what the member's Status says, for a failure report. */
async function describeState(options: DiscoverOptions): Promise<string> {
  const received = options.peers.map((p) => `${p.name} got ${p.mark()} messages`).join(", ");
  try {
    const s = await options.node.client.maintenance.status({}, { timeoutMs: 5_000 });
    return `${received}; Status: member ${s.header?.memberId}, term ${s.raftTerm}, leader ${s.leader}`;
  } catch (error) {
    return `${received}; Status does not answer either (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Long enough for a randomized election timeout (up to twice the setting) and a slow start. */
function campaignTimeoutMs(timing: RaftTiming): number {
  return 4 * timing.electionTimeoutMs + 20_000;
}
