import { createHash } from "node:crypto";

/** A member of the cluster as the configuration names it. */
export interface Member {
  /** Raft node id: a positive safe integer, derived from the peer URLs and the token. */
  id: number;
  name: string;
  peerUrls: string[];
}

export interface ClusterIdentity {
  clusterId: number;
  members: Member[];
}

const MAX_SAFE = 2 ** 53 - 1;

/** The first 53 bits of sha256(parts), never 0 (0 means "none" to Raft). */
function hashId(parts: readonly string[]): number {
  const digest = createHash("sha256").update(parts.join("\n")).digest();
  const high = digest.readUInt32BE(0) & 0x1f_ffff;
  const id = high * 2 ** 32 + digest.readUInt32BE(4);
  return id === 0 ? 1 : Math.min(id, MAX_SAFE);
}

/**
 * Derives member ids and the cluster id the way etcd does — from each member's sorted
 * peer URLs and the cluster token, and from the sorted member ids — so every member
 * computes the same ids from the same --initial-cluster without talking to the others,
 * and two clusters started with different tokens never accept each other's messages.
 * Ids are 53 bits rather than etcd's 64 so raft-core can keep them as numbers.
 */
export function clusterIdentity(
  initialCluster: ReadonlyMap<string, readonly URL[]>,
  token: string,
): ClusterIdentity {
  const members: Member[] = [];
  const seen = new Map<number, string>();
  for (const [name, urls] of initialCluster) {
    const peerUrls = urls.map((u) => u.origin).sort();
    const id = hashId([...peerUrls, token]);
    const clash = seen.get(id);
    if (clash !== undefined) {
      throw new Error(`members "${clash}" and "${name}" have the same peer URLs`);
    }
    seen.set(id, name);
    members.push({ id, name, peerUrls });
  }
  members.sort((a, b) => a.id - b.id);
  const clusterId = hashId([...members.map((m) => String(m.id)), token]);
  return { clusterId, members };
}

/** etcd prints member and cluster ids as 16 hex digits. */
export function formatId(id: number | bigint): string {
  return BigInt(id).toString(16).padStart(16, "0");
}
