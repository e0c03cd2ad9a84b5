/**
 * Model-based property test: random sequences of put, delete, txn, compaction and
 * historic ranges run against the store and against a tiny reference model (a full copy
 * of the key-value map at every revision); every answer must agree. Then the store is
 * reopened from its backend, and a twin store with no value cache replays the same log:
 * both must end byte-identical.
 */

import { Compare_CompareResult, Compare_CompareTarget, type KeyValue } from "@raftkv/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MvccError } from "./errors.js";
import { createMemoryBackend } from "./memory-backend.js";
import { dec, enc, Harness, type KvRequestInit } from "./testdata/harness.js";

interface ModelKv {
  value: string;
  create: number;
  mod: number;
  version: number;
}

type Snapshot = ReadonlyMap<string, ModelKv>;

/** The reference: the whole map at every revision, as the etcd API describes it. */
class Model {
  rev = 1;
  compacted = -1;
  readonly states = new Map<number, Snapshot>([[1, new Map()]]);

  get current(): Snapshot {
    return this.states.get(this.rev)!;
  }

  /** Applies changes (a put value, or null for delete) as one revision if any key changes. */
  commit(changes: [string, string | null][]): number {
    const next = new Map(this.current);
    const rev = this.rev + 1;
    let changed = false;
    for (const [key, value] of changes) {
      const prev = next.get(key);
      if (value === null) {
        if (prev !== undefined) {
          next.delete(key);
          changed = true;
        }
        continue;
      }
      next.set(key, {
        value,
        create: prev?.create ?? rev,
        mod: rev,
        version: (prev?.version ?? 0) + 1,
      });
      changed = true;
    }
    if (!changed) return this.rev;
    this.rev = rev;
    this.states.set(rev, next);
    return rev;
  }

  read(key: string, end: string | undefined, rev: number): ModelKv[] | "future" | "compacted" {
    if (rev > this.rev) return "future";
    const at = rev <= 0 ? this.rev : rev;
    if (at < this.compacted) return "compacted";
    const state = this.states.get(at)!;
    return [...state.entries()]
      .filter(([k]) => inRange(k, key, end))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, kv]) => ({ ...kv, key: k }));
  }
}

function inRange(k: string, key: string, end: string | undefined): boolean {
  if (end === undefined) return k === key;
  return k >= key && (end === "\u0000" || k < end);
}

function plain(kv: KeyValue) {
  return {
    key: dec(kv.key),
    value: dec(kv.value),
    create: Number(kv.createRevision),
    mod: Number(kv.modRevision),
    version: Number(kv.version),
  };
}

const key = fc.constantFrom("a", "a/1", "a/2", "b", "c", "d");
const value = fc.constantFrom("", "x", "y", "zz");
const end = fc.option(fc.constantFrom("a0", "b", "c", "z", "\u0000"), { nil: undefined });

const opArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant("put" as const), key, value, prevKv: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("delete" as const), key, end, prevKv: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("txn" as const),
      key,
      target: fc.constantFrom("version", "value", "mod"),
      result: fc.constantFrom(
        Compare_CompareResult.EQUAL,
        Compare_CompareResult.GREATER,
        Compare_CompareResult.LESS,
        Compare_CompareResult.NOT_EQUAL,
      ),
      operand: fc.nat(6),
      operandValue: value,
      thenPuts: fc.uniqueArray(fc.tuple(key, value), { maxLength: 3, selector: ([k]) => k }),
      elseDelete: key,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("compact" as const), back: fc.nat(8) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("range" as const),
      key,
      end,
      back: fc.integer({ min: -2, max: 10 }),
      limit: fc.nat(3),
    }),
  },
);

type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

async function step(h: Harness, model: Model, op: Op, log: KvRequestInit[]): Promise<void> {
  switch (op.op) {
    case "put": {
      const prev = model.current.get(op.key);
      const request: KvRequestInit = {
        request: {
          case: "put",
          value: { key: enc(op.key), value: enc(op.value), prevKv: op.prevKv },
        },
      };
      log.push(request);
      const response = ok(await h.apply(request)) as {
        header: { revision: bigint };
        prevKv?: KeyValue;
      };
      const rev = model.commit([[op.key, op.value]]);
      expect(response.header.revision).toBe(BigInt(rev));
      if (op.prevKv)
        expect(response.prevKv && plain(response.prevKv)).toEqual(prev && { ...prev, key: op.key });
      return;
    }
    case "delete": {
      const before = model.read(op.key, op.end, 0) as (ModelKv & { key: string })[];
      const request: KvRequestInit = {
        request: {
          case: "deleteRange",
          value: {
            key: enc(op.key),
            rangeEnd: op.end === undefined ? undefined : enc(op.end),
            prevKv: op.prevKv,
          },
        },
      };
      log.push(request);
      const response = ok(await h.apply(request)) as {
        header: { revision: bigint };
        deleted: bigint;
        prevKvs: KeyValue[];
      };
      const rev = model.commit(before.map((kv) => [kv.key, null]));
      expect(response.header.revision).toBe(BigInt(rev));
      expect(response.deleted).toBe(BigInt(before.length));
      if (op.prevKv) expect(response.prevKvs.map(plain)).toEqual(before);
      return;
    }
    case "txn": {
      const kv = model.current.get(op.key);
      let sign: number;
      if (op.target === "value") {
        const v = kv?.value;
        sign =
          v === undefined ? Number.NaN : v < op.operandValue ? -1 : v > op.operandValue ? 1 : 0;
      } else {
        const field = op.target === "version" ? (kv?.version ?? 0) : (kv?.mod ?? 0);
        sign = Math.sign(field - op.operand);
      }
      const holds = Number.isNaN(sign)
        ? false
        : op.result === Compare_CompareResult.EQUAL
          ? sign === 0
          : op.result === Compare_CompareResult.NOT_EQUAL
            ? sign !== 0
            : op.result === Compare_CompareResult.GREATER
              ? sign > 0
              : sign < 0;
      const target = {
        version: Compare_CompareTarget.VERSION,
        value: Compare_CompareTarget.VALUE,
        mod: Compare_CompareTarget.MOD,
      }[op.target];
      const targetUnion =
        op.target === "value"
          ? { case: "value" as const, value: enc(op.operandValue) }
          : op.target === "version"
            ? { case: "version" as const, value: BigInt(op.operand) }
            : { case: "modRevision" as const, value: BigInt(op.operand) };
      const request: KvRequestInit = {
        request: {
          case: "txn",
          value: {
            compare: [{ key: enc(op.key), target, result: op.result, targetUnion }],
            success: op.thenPuts.map(([k, v]) => ({
              request: { case: "requestPut" as const, value: { key: enc(k), value: enc(v) } },
            })),
            failure: [
              { request: { case: "requestDeleteRange", value: { key: enc(op.elseDelete) } } },
            ],
          },
        },
      };
      log.push(request);
      const response = ok(await h.apply(request)) as {
        header: { revision: bigint };
        succeeded: boolean;
      };
      expect(response.succeeded).toBe(holds);
      const rev = model.commit(holds ? op.thenPuts : [[op.elseDelete, null]]);
      expect(response.header.revision).toBe(BigInt(rev));
      return;
    }
    case "compact": {
      const target = model.rev - op.back;
      const request: KvRequestInit = {
        request: { case: "compaction", value: { revision: BigInt(target) } },
      };
      log.push(request);
      const result = await h.apply(request);
      if (target <= model.compacted) {
        expect(result).toMatchObject({ code: "COMPACTED" });
      } else {
        expect(result).not.toBeInstanceOf(MvccError);
        model.compacted = target;
      }
      return;
    }
    case "range": {
      const rev = op.back < 0 ? op.back : op.back === 0 ? 0 : model.rev + 1 - op.back;
      const expected = model.read(op.key, op.end, rev);
      const reading = h.range({
        key: enc(op.key),
        rangeEnd: op.end === undefined ? undefined : enc(op.end),
        revision: BigInt(rev),
        limit: BigInt(op.limit),
      });
      if (expected === "future")
        return void (await expect(reading).rejects.toMatchObject({ code: "FUTURE_REVISION" }));
      if (expected === "compacted")
        return void (await expect(reading).rejects.toMatchObject({ code: "COMPACTED" }));
      const response = await reading;
      const limited = op.limit > 0 ? expected.slice(0, op.limit) : expected;
      expect(response.kvs.map(plain)).toEqual(limited);
      expect(response.count).toBe(BigInt(expected.length));
      expect(response.more).toBe(op.limit > 0 && expected.length > op.limit);
      expect(response.header?.revision).toBe(BigInt(model.rev));
      return;
    }
  }
}

function ok(result: unknown): unknown {
  if (result instanceof MvccError) throw result;
  return result;
}

describe("MvccStore against a reference model", () => {
  it("agrees with the model on every answer, reopens to the same state, and replays byte-identically", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 150, size: "large" }),
        fc.integer({ min: 0, max: 4096 }),
        async (ops, cacheBytes) => {
          const backend = createMemoryBackend();
          const h = await Harness.open(backend, { valueCacheBytes: cacheBytes });
          const model = new Model();
          const log: KvRequestInit[] = [];
          for (const op of ops) await step(h, model, op, log);

          const everything = async (x: Harness) => x.get("\u0000", "\u0000");
          const before = await everything(h);
          const reopened = await h.reopen();
          expect(reopened.store.currentRevision()).toBe(model.rev);
          expect(await everything(reopened)).toEqual(before);

          const twin = await Harness.open(createMemoryBackend(), { valueCacheBytes: 0 });
          await twin.applyAll(log);
          expect(await twin.dump()).toEqual(await reopened.dump());
          expect(await twin.store.hashKV()).toEqual(await reopened.store.hashKV());
        },
      ),
      { numRuns: 150 },
    );
  }, 300_000);
});
