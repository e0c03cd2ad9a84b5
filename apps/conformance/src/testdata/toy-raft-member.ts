import { createServer, type Http2Server, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Maintenance, ResponseHeaderSchema, StatusResponseSchema } from "@raftkv/proto/etcd";
import {
  type Message,
  MessageBatchSchema,
  MessageType,
  RaftService,
  StreamResponseSchema,
} from "@raftkv/proto/raft";
import { PeerLink } from "../raft/peer-link.js";
import { raftMessage } from "../raft/raft-messages.js";

/** Options of `startToyRaftMember`. */
export interface ToyRaftMemberOptions {
  /** The other members' peer URLs (the suite's fake peers), in --initial-cluster order. */
  readonly peerUrls: readonly string[];
  /**
   * The deliberate bug: grant every vote request of the current or a higher term from a
   * candidate with an up-to-date log, forgetting whom it voted for. Default false.
   */
  readonly forgetsVotes?: boolean;
  /** How often it asks its peers for pre-votes, which is how the suite finds it. Default 300 ms. */
  readonly campaignIntervalMs?: number;
}

/** A running toy member. */
export interface ToyRaftMember {
  /** `http://127.0.0.1:port`: RaftService. */
  readonly peerUrl: string;
  /** `127.0.0.1:port`: Maintenance.Status. */
  readonly clientEndpoint: string;
  close(): Promise<void>;
}

const SELF = 101n;
const CLUSTER = 7n;
// Its log: three entries of term 1, as a bootstrapped three-member cluster has.
const LAST_INDEX = 3n;
const LAST_TERM = 1n;

/**
 * A test double of a Raft member that answers only vote requests, correctly or with the
 * classic bug of granting two votes in one term: enough to prove that the vote cases
 * pass a member that keeps the rule and fail one that breaks it. Ids: itself 101, its
 * peers 102, 103, … in the order given; cluster 7.
 */
export async function startToyRaftMember(options: ToyRaftMemberOptions): Promise<ToyRaftMember> {
  let term = 1n;
  let vote = 0n;
  const peerIds = options.peerUrls.map((_, i) => SELF + 1n + BigInt(i));
  // Opened on first use and again after a failure: the peers may not listen yet.
  const links = new Map<bigint, PeerLink>();
  const sendTo = (peer: bigint, message: Message): void => {
    const url = options.peerUrls[peerIds.indexOf(peer)];
    if (url === undefined) return;
    let link = links.get(peer);
    if (link === undefined || link.isClosed) {
      link = new PeerLink(url);
      links.set(peer, link);
    }
    link.send(
      create(MessageBatchSchema, { clusterId: CLUSTER, from: SELF, to: peer, messages: [message] }),
    );
  };

  const step = (m: Message): void => {
    if (m.type !== MessageType.VOTE && m.type !== MessageType.PRE_VOTE) return;
    const answerType =
      m.type === MessageType.VOTE ? MessageType.VOTE_RESPONSE : MessageType.PRE_VOTE_RESPONSE;
    const refuse = () =>
      sendTo(m.from, raftMessage(answerType, { from: SELF, to: m.from, term, reject: true }));
    if (m.term < term) {
      if (m.type === MessageType.PRE_VOTE) refuse();
      return;
    }
    const upToDate = m.logTerm > LAST_TERM || (m.logTerm === LAST_TERM && m.index >= LAST_INDEX);
    if (m.type === MessageType.PRE_VOTE) {
      if (upToDate && m.term > term) {
        sendTo(m.from, raftMessage(answerType, { from: SELF, to: m.from, term: m.term }));
      } else refuse();
      return;
    }
    if (m.term > term) {
      term = m.term;
      vote = 0n;
    }
    const free = options.forgetsVotes === true || vote === 0n || vote === m.from;
    if (!upToDate || !free) {
      refuse();
      return;
    }
    vote = m.from;
    sendTo(m.from, raftMessage(answerType, { from: SELF, to: m.from, term }));
  };

  const routes = (router: ConnectRouter): void => {
    router.service(RaftService, {
      async *stream(requests) {
        let batches = 0n;
        for await (const request of requests) {
          const batch = request.batch;
          if (batch === undefined || batch.clusterId !== CLUSTER || batch.to !== SELF) {
            throw new ConnectError("not for this member", Code.FailedPrecondition);
          }
          if (!peerIds.includes(batch.from)) {
            throw new ConnectError(`unknown member ${batch.from}`, Code.PermissionDenied);
          }
          batches++;
          for (const message of batch.messages) step(message);
          yield create(StreamResponseSchema, { batchesReceived: batches });
        }
      },
    });
    router.service(Maintenance, {
      status: () =>
        create(StatusResponseSchema, {
          header: create(ResponseHeaderSchema, { clusterId: CLUSTER, memberId: SELF }),
          version: "3.4.0",
          raftTerm: term,
          raftIndex: LAST_INDEX,
          raftAppliedIndex: LAST_INDEX,
        }),
    });
  };
  const sessions = new Set<Http2Session>();
  const listen = async (): Promise<Http2Server> => {
    const server = createServer(connectNodeAdapter({ routes, grpc: true }));
    server.on("session", (session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
      session.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server;
  };
  const peerServer = await listen();
  const clientServer = await listen();
  const campaign = setInterval(() => {
    for (const peer of peerIds) {
      sendTo(
        peer,
        raftMessage(MessageType.PRE_VOTE, {
          from: SELF,
          to: peer,
          term: term + 1n,
          index: LAST_INDEX,
          logTerm: LAST_TERM,
        }),
      );
    }
  }, options.campaignIntervalMs ?? 300);
  const portOf = (server: Http2Server) => (server.address() as AddressInfo).port;
  return {
    peerUrl: `http://127.0.0.1:${portOf(peerServer)}`,
    clientEndpoint: `127.0.0.1:${portOf(clientServer)}`,
    async close() {
      clearInterval(campaign);
      for (const link of links.values()) link.close();
      const closed = [peerServer, clientServer].map(
        (server) => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      for (const session of sessions) session.destroy();
      await Promise.all(closed);
    },
  };
}
