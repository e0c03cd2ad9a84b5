/** The outcome of checking a put run's count against the store's revision. */
export interface CountVerification {
  revisionBefore: bigint;
  revisionAfter: bigint;
  /** revisionAfter - revisionBefore: puts the store applied (each put adds one revision). */
  delta: number;
  /** Puts the generator saw succeed. */
  ok: number;
  /** Puts that failed; each may or may not have been applied. */
  unknown: number;
  /** ok ≤ delta ≤ ok + unknown: every acknowledged put happened and nothing else wrote. */
  consistent: boolean;
  /** delta === ok with no unknown outcomes: the count is exact. */
  exact: boolean;
  /** One line for a report. */
  summary: string;
}

/**
 * Checks that the revision delta of a put run is explained by the generator's counts:
 * each successful put adds exactly one revision, and a failed put adds one or none. A
 * delta below `ok` means acknowledged writes are missing (or the store is not counting
 * revisions per put); above `ok + unknown` means something else wrote during the run.
 */
export function verifyPutCount(
  revisionBefore: bigint,
  revisionAfter: bigint,
  ok: number,
  unknown: number,
): CountVerification {
  const delta = Number(revisionAfter - revisionBefore);
  const consistent = delta >= ok && delta <= ok + unknown;
  const exact = consistent && unknown === 0 && delta === ok;
  const summary = exact
    ? `verified: revision delta ${delta} = ${ok} successful puts`
    : consistent
      ? `consistent: revision delta ${delta} within ${ok} successful + ${unknown} unknown-outcome puts`
      : `MISMATCH: revision delta ${delta}, but ${ok} puts succeeded and ${unknown} had unknown outcomes`;
  return { revisionBefore, revisionAfter, delta, ok, unknown, consistent, exact, summary };
}
