import { RaftService } from "@raftkv/proto/raft";

/** HTTP/2 path of RaftService.Stream, from the generated service descriptor. */
export const STREAM_PATH = `/${RaftService.typeName}/${RaftService.method.stream!.name}`;

/** HTTP/2 path of RaftService.InstallSnapshot. */
export const INSTALL_SNAPSHOT_PATH = `/${RaftService.typeName}/${RaftService.method.installSnapshot!.name}`;

/**
 * Request headers a raftkv member sends with every call, so the receiver can refuse a
 * peer of another cluster or an unknown member before reading any message. They are an
 * early check only: every MessageBatch and SnapshotHeader carries the same fields and is
 * checked itself, so other gRPC clients may omit the headers.
 */
export const Header = {
  clusterId: "raftkv-cluster-id",
  from: "raftkv-from",
  to: "raftkv-to",
  /** "control" or "append": which of the two streams of a member pair this is. */
  lane: "raftkv-lane",
} as const;
