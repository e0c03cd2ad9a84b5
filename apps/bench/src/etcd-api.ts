import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  RangeRequestSchema,
  RangeResponseSchema,
  StatusRequestSchema,
  StatusResponseSchema,
} from "@raftkv/proto/etcd";
import { GrpcStatusError } from "./errors.js";
import type { GrpcUnaryConnection } from "./grpc-unary-connection.js";

/** What Maintenance.Status says about one member. */
export interface MemberStatus {
  memberId: bigint;
  /** The leader's member id as this member knows it; 0n while there is none. */
  leader: bigint;
  revision: bigint;
  raftTerm: bigint;
  raftIndex: bigint;
  dbSize: bigint;
  version: string;
}

/** Asks one member for its status (etcd's Maintenance.Status). Rejects with the call's error. */
export async function readStatus(connection: GrpcUnaryConnection): Promise<MemberStatus> {
  const bytes = await connection.unary(
    "/etcdserverpb.Maintenance/Status",
    toBinary(StatusRequestSchema, create(StatusRequestSchema)),
  );
  const status = fromBinary(StatusResponseSchema, bytes);
  return {
    memberId: status.header?.memberId ?? 0n,
    leader: status.leader,
    revision: status.header?.revision ?? 0n,
    raftTerm: status.raftTerm,
    raftIndex: status.raftIndex,
    dbSize: status.dbSize,
    version: status.version,
  };
}

/**
 * The store's current revision, from the header of a linearizable Range (any key; etcd
 * rejects an empty one): after every put of a run has been acknowledged, it includes all
 * of them. Rejects with GrpcStatusError when the server answers without a header.
 */
export async function readRevision(connection: GrpcUnaryConnection): Promise<bigint> {
  const bytes = await connection.unary(
    "/etcdserverpb.KV/Range",
    toBinary(
      RangeRequestSchema,
      create(RangeRequestSchema, {
        key: new TextEncoder().encode("raftkv-bench/revision-probe"),
        countOnly: true,
      }),
    ),
  );
  const header = fromBinary(RangeResponseSchema, bytes).header;
  if (!header) throw new GrpcStatusError(13, "Range response carried no header");
  return header.revision;
}
