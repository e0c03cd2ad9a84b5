/**
 * A deterministic Raft log for crash-and-replay tests: puts with request ids, retries of
 * earlier ids (some far back, some recent), puts with prev_kv, deletes, txns, a
 * compaction, empty and conf-change entries. The same `count` and `seed` always give the
 * same entries, so a child process and its parent can build it alike. Test-only: not
 * part of the build.
 */
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { KvRequestSchema } from "@raftkv/proto";
import type { ApplyResult } from "../apply-result.js";
import { MvccError } from "../errors.js";
import type { ApplyEntry } from "../mvcc-store.js";

type KvRequestInit = MessageInitShape<typeof KvRequestSchema>;

const enc = (text: string) => new TextEncoder().encode(text);

export function replayLog(count: number, seed = 1): ApplyEntry[] {
  let state = seed >>> 0 || 1;
  const next = (n: number) => {
    // xorshift32: small, deterministic, good enough to pick ops.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const entries: ApplyEntry[] = [];
  const sent: KvRequestInit[] = [];
  for (let index = 1; index <= count; index++) {
    const pick = next(100);
    if (pick < 3) {
      // Empty entries (a new leader's) and conf changes advance the index only.
      entries.push({ index, term: 1, type: pick === 0 ? 0 : 1, data: new Uint8Array(0) });
      continue;
    }
    let request: KvRequestInit;
    const key = enc(`k${next(20)}`);
    if (pick < 15 && sent.length > 0) {
      // A retried proposal: the same request, same id, again.
      request = sent[next(sent.length)]!;
    } else if (pick < 25) {
      request = {
        id: BigInt(index),
        request: { case: "put", value: { key, value: enc(`v${index}`), prevKv: true } },
      };
    } else if (pick < 33) {
      request = {
        id: BigInt(index),
        request: { case: "deleteRange", value: { key, prevKv: next(2) === 0 } },
      };
    } else if (pick < 40) {
      request = {
        id: BigInt(index),
        request: {
          case: "txn",
          value: {
            compare: [{ key, target: 0, result: 0, targetUnion: { case: "version", value: 0n } }],
            success: [{ request: { case: "requestPut", value: { key, value: enc("new") } } }],
            failure: [
              { request: { case: "requestPut", value: { key, value: enc(`t${index}`) } } },
              { request: { case: "requestRange", value: { key } } },
            ],
          },
        },
      };
    } else if (pick === 40 && index > count / 2) {
      request = {
        id: BigInt(index),
        request: { case: "compaction", value: { revision: BigInt(Math.floor(index / 3)) } },
      };
    } else {
      request = {
        id: pick < 90 ? BigInt(index) : 0n,
        request: { case: "put", value: { key, value: enc(`v${index}`) } },
      };
    }
    if (request.id !== 0n) sent.push(request);
    entries.push({
      index,
      term: 1,
      type: 0,
      data: toBinary(KvRequestSchema, create(KvRequestSchema, request)),
    });
  }
  return entries;
}

/** A result as plain JSON-able text, for comparing runs (also across processes). */
export function describeResult(result: ApplyResult): string {
  if (result === undefined) return "undefined";
  if (result instanceof MvccError) return `error ${result.code}`;
  return JSON.stringify(result, (_, v: unknown) =>
    typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v,
  );
}
