/**
 * Which leases exist, for the checks etcd makes when a put names a lease. Lease grants
 * and revocations are not part of this package yet; until they are, the store knows no
 * lease (`NO_LEASES`) and answers every put with a lease `LeaseNotFoundError`, as etcd
 * does for a lease that was never granted.
 *
 * An implementation must be replicated state: every member must answer the same for the
 * same log position, or replicas diverge.
 */
export interface LeaseRegistry {
  /** Whether `lease` (never 0) is currently granted. */
  has(lease: bigint): boolean;
}

/** The registry of a store without leases. */
export const NO_LEASES: LeaseRegistry = { has: () => false };
