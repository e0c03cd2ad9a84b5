import {
  type KeyValue,
  type RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeResponse,
} from "@raftkv/proto";
import { CompactedError, FutureRevisionError } from "./errors.js";
import { bytesToKey, compareBytes } from "./key-bytes.js";
import type { KeyIndex } from "./key-index.js";
import type { KvRecord } from "./kv-record.js";
import { header, toKeyValue } from "./responses.js";
import type { TreeIndex } from "./tree-index.js";

/** A revision of a key that a read found in the index and must fetch. */
export interface RevisionRef {
  ki: KeyIndex;
  main: number;
  sub: number;
}

/**
 * A consistent view to read from: the index as of `rev`, and a way to fetch the records
 * it names. Implemented by the store for reads outside Raft (pinned to a backend snapshot)
 * and by write txns during apply (which see their own earlier writes).
 */
export interface ReadView {
  /** The revision this view reads at: etcd's `curRev`, the header revision of a read. */
  readonly rev: number;
  /** The compacted main revision (-1 before any compaction, as in etcd). */
  readonly compactRev: number;
  readonly index: TreeIndex;
  /** The records of `refs`, in order. */
  fetch(refs: readonly RevisionRef[]): Promise<KvRecord[]>;
}

/** What etcd's `rangeKeys` returns: records (maybe limited), the full count, the revision. */
export interface RangeResult {
  records: KvRecord[];
  count: number;
  rev: number;
}

export interface RangeKeysOptions {
  /** Fetch at most this many (0 or less: all). */
  limit: number;
  /** The revision to read at; 0 or less: `view.rev`. */
  rev: number;
  /** Count only, fetch nothing. */
  countOnly: boolean;
}

/**
 * The binary-string range end of a request's `range_end`: `undefined` for a single key,
 * `""` (no upper bound) for "\0", as etcd's `mkGteRange`.
 */
export function rangeEnd(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes.length === 1 && bytes[0] === 0) return "";
  return bytesToKey(bytes);
}

/**
 * etcd's `rangeKeys`: the keys of `[key, end)` that exist at the requested revision.
 * Throws `FutureRevisionError` above `view.rev` and `CompactedError` below the compacted
 * revision (reading exactly at the compacted revision is allowed).
 */
export async function rangeKeys(
  view: ReadView,
  key: string,
  end: string | undefined,
  options: RangeKeysOptions,
): Promise<RangeResult> {
  const curRev = view.rev;
  let rev = options.rev;
  if (rev > curRev) throw new FutureRevisionError();
  if (rev <= 0) rev = curRev;
  if (rev < view.compactRev) throw new CompactedError();

  const limit = options.countOnly
    ? 0
    : options.limit > 0
      ? options.limit
      : Number.POSITIVE_INFINITY;
  const refs: RevisionRef[] = [];
  let count = 0;
  view.index.visible(key, end, rev, (ki, found) => {
    count++;
    if (refs.length < limit) refs.push({ ki, main: found.main, sub: found.sub });
  });
  if (count === 0 || options.countOnly) return { records: [], count, rev: curRev };
  return { records: await view.fetch(refs), count, rev: curRev };
}

/**
 * etcd 3.4's Range on a view (`applierV3backend.Range`): limit, revision, count_only,
 * keys_only, the min/max mod and create revision filters, sort, `more` and `count`.
 *
 * How they interact, exactly as etcd: `count` is the number of keys in the range at the
 * revision, before the revision filters; with no sort and no filter, `limit + 1` records
 * are fetched and `more` says whether there were more than `limit`; with a sort or a
 * filter, everything is fetched, filtered, sorted and then cut to `limit`, and `more` says
 * whether the cut dropped anything. The header revision is the view's revision, also
 * for historic reads.
 */
export async function range(view: ReadView, request: RangeRequest): Promise<RangeResponse> {
  const requested = request.limit;
  const hasFilters =
    request.minModRevision !== 0n ||
    request.maxModRevision !== 0n ||
    request.minCreateRevision !== 0n ||
    request.maxCreateRevision !== 0n;
  let fetchLimit = request.sortOrder !== RangeRequest_SortOrder.NONE || hasFilters ? 0n : requested;
  if (fetchLimit > 0n) fetchLimit += 1n;

  const result = await rangeKeys(view, bytesToKey(request.key), rangeEnd(request.rangeEnd), {
    limit: toLimit(fetchLimit),
    rev: toRevision(request.revision),
    countOnly: request.countOnly,
  });

  let records = result.records;
  if (hasFilters) records = filterRecords(records, request);

  let sortOrder = request.sortOrder;
  if (
    request.sortTarget !== RangeRequest_SortTarget.KEY &&
    sortOrder === RangeRequest_SortOrder.NONE
  ) {
    sortOrder = RangeRequest_SortOrder.ASCEND;
  }
  if (sortOrder === RangeRequest_SortOrder.ASCEND || sortOrder === RangeRequest_SortOrder.DESCEND) {
    records = sortRecords(
      records,
      request.sortTarget,
      sortOrder === RangeRequest_SortOrder.DESCEND,
    );
  }

  let more = false;
  if (requested > 0n && BigInt(records.length) > requested) {
    records = records.slice(0, Number(requested));
    more = true;
  }
  const kvs: KeyValue[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) kvs[i] = toKeyValue(records[i]!, request.keysOnly);
  return {
    $typeName: "etcdserverpb.RangeResponse",
    header: header(result.rev),
    kvs,
    more,
    count: BigInt(result.count),
  };
}

function filterRecords(records: KvRecord[], request: RangeRequest): KvRecord[] {
  const maxMod = Number(request.maxModRevision);
  const minMod = Number(request.minModRevision);
  const maxCreate = Number(request.maxCreateRevision);
  const minCreate = Number(request.minCreateRevision);
  return records.filter(
    (r) =>
      !(maxMod !== 0 && r.modRevision > maxMod) &&
      !(minMod !== 0 && r.modRevision < minMod) &&
      !(maxCreate !== 0 && r.createRevision > maxCreate) &&
      !(minCreate !== 0 && r.createRevision < minCreate),
  );
}

/**
 * A stable sort (ties keep key order). etcd uses Go's unstable `sort.Sort`: for 12 or
 * fewer records that is an insertion sort and agrees with this exactly; for more, etcd's
 * order among equal sort values is unspecified and may differ.
 */
function sortRecords(
  records: KvRecord[],
  target: RangeRequest_SortTarget,
  descending: boolean,
): KvRecord[] {
  const compare = comparatorFor(target);
  const sorted = records.slice();
  sorted.sort(descending ? (a, b) => compare(b, a) : compare);
  return sorted;
}

function comparatorFor(target: RangeRequest_SortTarget): (a: KvRecord, b: KvRecord) => number {
  switch (target) {
    case RangeRequest_SortTarget.VERSION:
      return (a, b) => a.version - b.version;
    case RangeRequest_SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision;
    case RangeRequest_SortTarget.MOD:
      return (a, b) => a.modRevision - b.modRevision;
    case RangeRequest_SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return (a, b) => compareBytes(a.key, b.key);
  }
}

/** A request's int64 limit as a number (huge limits mean "all"). */
function toLimit(limit: bigint): number {
  return limit > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(limit);
}

/** A request's int64 revision, clamped into the safe-integer range (far above any real revision). */
export function toRevision(revision: bigint): number {
  if (revision > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (revision < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(revision);
}
