/**
 * A small driver for store tests: builds etcd requests from plain objects, applies them
 * as consecutive Raft entries, and reads back. Test-only: not part of the build.
 */
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  type CompactionResponse,
  type DeleteRangeResponse,
  KvRequestSchema,
  type PutResponse,
  type RangeRequest,
  RangeRequestSchema,
  type RangeResponse,
  type TxnRequest,
  TxnRequestSchema,
  type TxnResponse,
} from "@raftkv/proto";
import type { ApplyResult } from "../apply-result.js";
import type { BackendEntry, MvccBackend } from "../backend.js";
import { MvccError } from "../errors.js";
import { Keyspace, slotFromPointer } from "../keyspace.js";
import { type MvccStore, type MvccStoreOptions, openMvccStore } from "../mvcc-store.js";

export type KvRequestInit = MessageInitShape<typeof KvRequestSchema>;
export type RangeInit = MessageInitShape<typeof RangeRequestSchema>;
export type TxnInit = MessageInitShape<typeof TxnRequestSchema>;

export const enc = (text: string) => new TextEncoder().encode(text);
export const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

export class Harness {
  private constructor(
    public store: MvccStore,
    readonly backend: MvccBackend,
    private readonly options: Omit<MvccStoreOptions, "backend">,
  ) {}

  static async open(
    backend: MvccBackend,
    options: Omit<MvccStoreOptions, "backend"> = {},
  ): Promise<Harness> {
    return new Harness(await openMvccStore({ ...options, backend }), backend, options);
  }

  /**
   * A clean restart: closes the store (which writes everything applied to the backend),
   * then reopens the backend with `reopenBackend` (default: the same object) and opens a
   * new store on it.
   */
  async reopen(
    reopenBackend: (backend: MvccBackend) => Promise<MvccBackend> = async (b) => b,
  ): Promise<Harness> {
    await this.store.close();
    return Harness.open(await reopenBackend(this.backend), this.options);
  }

  /** `dumpBackend` once everything applied so far is written. */
  async dump(): Promise<string[]> {
    await this.store.flush();
    return dumpBackend(this.backend);
  }

  /** Applies one request as the next log entry and returns its result. */
  async apply(request: KvRequestInit): Promise<ApplyResult> {
    const data = toBinary(KvRequestSchema, create(KvRequestSchema, request));
    const index = this.store.lastAppliedIndex() + 1;
    const [result] = await this.store.apply([{ index, term: 1, type: 0, data }]);
    return result;
  }

  /** Applies several requests as one batch of consecutive entries. */
  async applyAll(requests: KvRequestInit[]): Promise<ApplyResult[]> {
    let index = this.store.lastAppliedIndex();
    return this.store.apply(
      requests.map((request) => ({
        index: ++index,
        term: 1,
        type: 0,
        data: toBinary(KvRequestSchema, create(KvRequestSchema, request)),
      })),
    );
  }

  async put(key: string, value: string, extra: Record<string, unknown> = {}): Promise<PutResponse> {
    return ok(
      await this.apply({
        request: { case: "put", value: { key: enc(key), value: enc(value), ...extra } },
      }),
    );
  }

  async del(
    key: string,
    rangeEnd?: string,
    extra: Record<string, unknown> = {},
  ): Promise<DeleteRangeResponse> {
    return ok(
      await this.apply({
        request: {
          case: "deleteRange",
          value: {
            key: enc(key),
            rangeEnd: rangeEnd === undefined ? undefined : enc(rangeEnd),
            ...extra,
          },
        },
      }),
    );
  }

  async txn(init: TxnInit): Promise<TxnResponse> {
    return ok(await this.apply({ request: { case: "txn", value: init } }));
  }

  async compact(revision: number): Promise<ApplyResult> {
    return this.apply({ request: { case: "compaction", value: { revision: BigInt(revision) } } });
  }

  async compactOk(revision: number): Promise<CompactionResponse> {
    return ok(await this.compact(revision));
  }

  range(init: RangeInit): Promise<RangeResponse> {
    return this.store.range(create(RangeRequestSchema, init) as RangeRequest);
  }

  /** Keys and values of a range, as text pairs. */
  async get(key: string, rangeEnd?: string, extra: RangeInit = {}): Promise<[string, string][]> {
    const response = await this.range({
      key: enc(key),
      rangeEnd: rangeEnd === undefined ? undefined : enc(rangeEnd),
      ...extra,
    });
    return response.kvs.map((kv) => [dec(kv.key), dec(kv.value)]);
  }

  txnRequest(init: TxnInit): TxnRequest {
    return create(TxnRequestSchema, init) as TxnRequest;
  }
}

/** The response of a result that must not be an error. */
export function ok<T>(result: ApplyResult): T {
  if (result instanceof MvccError) throw new Error(`unexpected ${result.code}: ${result.message}`);
  if (result === undefined) throw new Error("unexpected undefined result");
  return result as T;
}

/**
 * The live slot's entries in key order, keys in portable form, as hex pairs: what must
 * be byte-identical on every member that applied the same log.
 */
export async function dumpBackend(backend: MvccBackend): Promise<string[]> {
  const out: string[] = [];
  const snapshot = backend.snapshot();
  try {
    const keys = slotFromPointer(await snapshot.get(Keyspace.SLOT_POINTER));
    for await (const { key, value } of snapshot.range({ gte: keys.start, lt: keys.end })) {
      out.push(entryHex({ key: keys.toPortable(key), value }));
    }
  } finally {
    snapshot.release();
  }
  return out;
}

/** Every raw backend entry, both slots and the slot pointer included. */
export async function rawBackend(backend: MvccBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of backend.range({})) out.push(entryHex(entry));
  return out;
}

function entryHex({ key, value }: BackendEntry): string {
  return `${Buffer.from(key).toString("hex")}=${Buffer.from(value).toString("hex")}`;
}
