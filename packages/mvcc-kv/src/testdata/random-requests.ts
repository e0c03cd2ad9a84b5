/**
 * Seeded random etcd requests for the differential test: puts, deletes, ranges (with
 * every option), txns (every compare target and result, nested txns, duplicate keys,
 * read-only ones) and compactions, plus a sprinkle of invalid requests. The generator
 * tracks the revision it expects so that historic reads and compactions land near the
 * interesting edges. Test-only: not part of the build.
 */
import { create } from "@bufbuild/protobuf";
import {
  type CompactionRequest,
  CompactionRequestSchema,
  type Compare,
  CompareSchema,
  type DeleteRangeRequest,
  DeleteRangeRequestSchema,
  type PutRequest,
  PutRequestSchema,
  type RangeRequest,
  RangeRequestSchema,
  type RequestOp,
  RequestOpSchema,
  type TxnRequest,
  TxnRequestSchema,
} from "@raftkv/proto";

export type RandomOp =
  | { kind: "range"; request: RangeRequest }
  | { kind: "put"; request: PutRequest }
  | { kind: "deleteRange"; request: DeleteRangeRequest }
  | { kind: "txn"; request: TxnRequest }
  | { kind: "compaction"; request: CompactionRequest };

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Twelve keys: with at most 12 records in any result, Go's sort in etcd is an insertion
 * sort, so even ties in sorted ranges come back in a defined order to compare with.
 */
export const KEYS = ["a", "a/1", "a/2", "b", "b/1", "c", "d", "e", "f", "foo", "foo/bar", "z"];
const PREFIXES = ["a", "a/", "b", "foo", "f"];
const enc = (text: string) => new TextEncoder().encode(text);

export class RequestGenerator {
  private readonly random: () => number;
  /** What the generator believes the current and compacted revisions are (a hint only). */
  revision = 1;
  compacted = 0;
  private readonly recentValues: string[] = ["", "v1"];

  constructor(seed: number) {
    this.random = prng(seed);
  }

  next(): RandomOp {
    const roll = this.random();
    if (roll < 0.3) return { kind: "put", request: this.put() };
    if (roll < 0.42) return { kind: "deleteRange", request: this.deleteRange() };
    if (roll < 0.7) return { kind: "range", request: this.range() };
    if (roll < 0.98) return { kind: "txn", request: this.txn(0) };
    return { kind: "compaction", request: this.compaction() };
  }

  /** A put whose value is `size` bytes: for the request-size limit. */
  bigPut(size: number): RandomOp {
    return {
      kind: "put",
      request: create(PutRequestSchema, {
        key: enc(this.writeKey()),
        value: new Uint8Array(size).fill(0x61),
      }),
    };
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A key to read, compare or delete: sometimes one that is never written. */
  private key(): string {
    if (this.chance(0.01)) return "";
    return this.chance(0.05) ? this.pick(["q", "a0", "foo/baz"]) : this.pick(KEYS);
  }

  /** A key to write: only the twelve of `KEYS`, so no range ever holds more than twelve. */
  private writeKey(): string {
    return this.chance(0.01) ? "" : this.pick(KEYS);
  }

  private value(): string {
    if (this.chance(0.3)) return this.pick(this.recentValues);
    const value = this.chance(0.1) ? "" : `v${this.int(1000)}${"x".repeat(this.int(20))}`;
    this.recentValues.push(value);
    if (this.recentValues.length > 20) this.recentValues.shift();
    return value;
  }

  /** A key and range end: one key, [a, b) (sometimes reversed), a prefix, from-key, or all. */
  private span(): { key: Uint8Array; rangeEnd: Uint8Array } {
    const roll = this.random();
    if (roll < 0.4) return { key: enc(this.key()), rangeEnd: new Uint8Array(0) };
    if (roll < 0.62) {
      let [a, b] = [this.key(), this.key()];
      if (a > b && this.chance(0.85)) [a, b] = [b, a];
      return { key: enc(a), rangeEnd: enc(b) };
    }
    if (roll < 0.8) {
      const prefix = enc(this.pick(PREFIXES));
      const end = prefix.slice();
      end[end.length - 1]! += 1;
      return { key: prefix, rangeEnd: end };
    }
    if (roll < 0.93) return { key: enc(this.key()), rangeEnd: Uint8Array.of(0) };
    return { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) };
  }

  private revisionToRead(): bigint {
    if (this.chance(0.55)) return 0n;
    const roll = this.random();
    if (roll < 0.05) return -1n;
    if (roll < 0.12) return BigInt(this.revision + 1);
    if (roll < 0.2) return BigInt(Math.max(1, this.compacted - 1));
    if (roll < 0.28) return BigInt(this.compacted);
    const low = Math.max(1, this.compacted);
    return BigInt(low + this.int(this.revision - low + 1));
  }

  private range(): RangeRequest {
    const revisionFilter = () => (this.chance(0.9) ? 0n : BigInt(1 + this.int(this.revision + 1)));
    return create(RangeRequestSchema, {
      ...this.span(),
      limit: this.chance(0.5) ? 0n : this.pick([1n, 2n, 3n, 5n, 20n, -1n]),
      revision: this.revisionToRead(),
      sortOrder: this.chance(0.65) ? 0 : this.pick([0, 1, 2]),
      sortTarget: this.chance(0.65) ? 0 : this.pick([0, 1, 2, 3, 4]),
      serializable: this.chance(0.5),
      keysOnly: this.chance(0.1),
      countOnly: this.chance(0.1),
      minModRevision: revisionFilter(),
      maxModRevision: revisionFilter(),
      minCreateRevision: revisionFilter(),
      maxCreateRevision: revisionFilter(),
    });
  }

  private put(): PutRequest {
    const ignoreValue = this.chance(0.06);
    const ignoreLease = this.chance(0.06);
    return create(PutRequestSchema, {
      key: enc(this.writeKey()),
      value: ignoreValue && this.chance(0.8) ? new Uint8Array(0) : enc(this.value()),
      prevKv: this.chance(0.4),
      ignoreValue,
      ignoreLease,
      lease: this.chance(0.03) ? BigInt(1 + this.int(1000)) : 0n,
    });
  }

  private deleteRange(): DeleteRangeRequest {
    return create(DeleteRangeRequestSchema, { ...this.span(), prevKv: this.chance(0.5) });
  }

  private compaction(): CompactionRequest {
    const roll = this.random();
    let revision: number;
    if (roll < 0.1) revision = this.compacted;
    else if (roll < 0.2) revision = this.revision + 1;
    else revision = Math.max(this.compacted + 1, this.revision - this.int(60));
    return create(CompactionRequestSchema, {
      revision: BigInt(revision),
      physical: this.chance(0.5),
    });
  }

  private compare(): Compare {
    const target = this.int(5);
    const result = this.int(4);
    const useRange = this.chance(0.2);
    const span = useRange ? this.span() : { key: enc(this.key()), rangeEnd: new Uint8Array(0) };
    // The operand usually matches the target; sometimes it is another field (etcd then compares with 0).
    const operandFor = this.chance(0.95) ? target : this.int(5);
    const revisionOperand = () => BigInt(this.int(this.revision + 2));
    let targetUnion: Compare["targetUnion"];
    switch (operandFor) {
      case 0:
        targetUnion = { case: "version", value: BigInt(this.int(4)) };
        break;
      case 1:
        targetUnion = { case: "createRevision", value: revisionOperand() };
        break;
      case 2:
        targetUnion = { case: "modRevision", value: revisionOperand() };
        break;
      case 3:
        targetUnion = { case: "value", value: enc(this.pick(this.recentValues)) };
        break;
      default:
        targetUnion = { case: "lease", value: this.chance(0.8) ? 0n : 5n };
    }
    return create(CompareSchema, { ...span, target, result, targetUnion });
  }

  private op(depth: number, readOnly: boolean): RequestOp {
    const roll = readOnly ? 0.9 : this.random();
    if (roll < 0.5)
      return create(RequestOpSchema, { request: { case: "requestPut", value: this.put() } });
    if (roll < 0.65)
      return create(RequestOpSchema, {
        request: { case: "requestDeleteRange", value: this.deleteRange() },
      });
    if (roll < 0.9 || depth >= 2)
      return create(RequestOpSchema, { request: { case: "requestRange", value: this.range() } });
    return create(RequestOpSchema, { request: { case: "requestTxn", value: this.txn(depth + 1) } });
  }

  private txn(depth: number): TxnRequest {
    if (depth === 0 && this.chance(0.01)) {
      const many = Array.from({ length: 129 }, () =>
        create(RequestOpSchema, { request: { case: "requestRange", value: this.range() } }),
      );
      return create(TxnRequestSchema, { success: many });
    }
    const readOnly = depth === 0 && this.chance(0.2);
    const ops = (n: number) => Array.from({ length: n }, () => this.op(depth, readOnly));
    return create(TxnRequestSchema, {
      compare: Array.from({ length: this.int(4) }, () => this.compare()),
      success: ops(this.int(depth === 0 ? 5 : 3)),
      failure: ops(this.int(depth === 0 ? 4 : 2)),
    });
  }
}
