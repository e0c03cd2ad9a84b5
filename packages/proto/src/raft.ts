/**
 * The raftkv peer protocol (package raftkv.raft.v1): log entries, hard state,
 * membership, the messages members exchange and the RaftService that carries them.
 * Index, term and member ids are `bigint` here; raft-core converts them to numbers at
 * its edges.
 */
export * from "./gen/raftkv/raft/v1/raft_pb.js";
