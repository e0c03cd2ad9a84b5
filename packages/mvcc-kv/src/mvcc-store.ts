import type {
  CompactionRequest,
  CompactionResponse,
  KvRequest,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from "@raftkv/proto";
import type { Registry } from "prom-client";
import { applyDeleteRange, applyPut, applyTxn } from "./apply-ops.js";
import type { ApplyResult, KvResponse } from "./apply-result.js";
import type { BackendEntry, BackendOperation, BackendSnapshot, MvccBackend } from "./backend.js";
import { BackendFlusher } from "./backend-flusher.js";
import { crc32c } from "./crc32c.js";
import {
  ApplyOrderError,
  CompactedError,
  CorruptStateError,
  FutureRevisionError,
  InvalidRequestError,
  LeaseNotFoundError,
  MvccError,
  StoreClosedError,
  StoreFailedError,
} from "./errors.js";
import { Keyspace, slotFromPointer, uint64BE } from "./keyspace.js";
import { decodeKvRequest } from "./kv-request-decoder.js";
import { type LeaseRegistry, NO_LEASES } from "./leases.js";
import { createMvccMetrics, type MvccMetrics } from "./metrics.js";
import { MvccState } from "./mvcc-state.js";
import { range, toRevision } from "./range.js";
import { RequestTable } from "./request-table.js";
import { header } from "./responses.js";
import { DEFAULT_SNAPSHOT_CHUNK_BYTES, decodeSnapshot, encodeSnapshot } from "./snapshot-stream.js";
import { StateLoader } from "./state-loader.js";
import {
  isTxnReadOnly,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from "./validate.js";
import { DEFAULT_VALUE_CACHE_BYTES } from "./value-cache.js";
import { WriteTxn } from "./write-txn.js";

/** A structured logger (pino's signature); mvcc-kv logs rare, notable events only. */
export interface MvccLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface MvccStoreOptions {
  /** Where the state lives; the store does not close it. */
  backend: MvccBackend;
  /**
   * Byte budget of the in-memory cache of each key's latest value. Default
   * `DEFAULT_VALUE_CACHE_BYTES` (256 MiB). Changes speed only, never results, so members
   * may differ.
   */
  valueCacheBytes?: number | undefined;
  /** Chunk size of `snapshot()` streams. Default 1 MiB. */
  snapshotChunkBytes?: number | undefined;
  /** Which leases exist (replicated state). Default: none, so any lease is not found. */
  leases?: LeaseRegistry | undefined;
  logger?: MvccLogger | undefined;
  /** prom-client registry to report metrics in (one store per registry). */
  registry?: Registry | undefined;
  /**
   * The longest time applied operations wait in memory before they are written to the
   * backend as one batch, in milliseconds (etcd's `--backend-batch-interval`). Default
   * `DEFAULT_BATCH_INTERVAL_MS` (100); 0 writes as soon as the previous write is done.
   * Longer means fewer, larger backend writes, and more entries for Raft to replay after a
   * crash. Throws `InvalidOptionError` below 0 or above 2^31-1.
   */
  batchIntervalMs?: number | undefined;
  /**
   * A batch is written once it holds this many backend operations (a put with a request id
   * is two or three), checked after each `apply` call (etcd's `--backend-batch-limit`).
   * Default `DEFAULT_BATCH_LIMIT_OPS` (10,000). Throws `InvalidOptionError` below 1.
   */
  batchLimitOps?: number | undefined;
  /**
   * A batch is written once its keys and values reach this many bytes, checked after each
   * `apply` call. Default `DEFAULT_BATCH_LIMIT_BYTES` (16 MiB). Throws `InvalidOptionError`
   * below 1.
   */
  batchLimitBytes?: number | undefined;
  /**
   * Back-pressure: while more than this many bytes are applied but not yet written (a
   * slow or stuck disk), `apply` waits for backend writes before it starts. One `apply`
   * call may go past it by its own size. Default `DEFAULT_MAX_PENDING_BYTES` (64 MiB).
   * Throws `InvalidOptionError` below 1.
   */
  maxPendingBytes?: number | undefined;
}

/** A Raft log entry as the store needs it; raft-core's `Entry` fits. */
export interface ApplyEntry {
  index: number;
  term: number;
  /** 0 (normal) carries a `KvRequest`; any other type is a conf change and is skipped. */
  type: number;
  data: Uint8Array;
}

/** What `restore` needs of raft-core's `SnapshotMetadata`. */
export interface RestoreMetadata {
  index: number;
}

/** The answer of `hashKV`. */
export interface HashKvResult {
  /** CRC-32C over the stored revisions that a compaction at `revision` would keep. */
  hash: number;
  /** The revision the hash covers. */
  revision: number;
  /** The compacted revision when hashed (0 before any compaction). */
  compactRevision: number;
}

/** Operations per backend batch while restoring a snapshot. */
const RESTORE_BATCH_OPERATIONS = 4096;
/** Bytes per backend batch while restoring a snapshot. */
const RESTORE_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Opens a store on `options.backend`, rebuilding the key index, the revision counters and
 * the request-id table by scanning the backend. A backend left half way through a
 * snapshot restore is wiped (its applied index drops to 0, so Raft must send a snapshot
 * again) and a warning logged. Rejects with `CorruptStateError` when stored data cannot
 * be read, or with the backend's error.
 */
export async function openMvccStore(options: MvccStoreOptions): Promise<MvccStore> {
  const store = new MvccStore(options);
  await store.load();
  return store;
}

/**
 * etcd v3's multi-version key-value store as a replicated state machine. It implements
 * raft-core's `StateMachine<ApplyResult>` structurally: committed entries go to
 * `apply` in log order; `snapshot`/`restore` move the whole state between members.
 * Reads (`range`, `txnRead`) are served outside Raft, at the current or a historic
 * revision; choosing serializable or linearizable reads is the caller's business.
 *
 * Durability, as etcd's backend: `apply` changes memory and returns; what it wrote
 * reaches the backend later, in batches (`batchIntervalMs`, `batchLimitOps`,
 * `batchLimitBytes`), one write at a time. Reads see every applied entry at once.
 * `appliedIndex()` is the last entry the backend holds, `lastAppliedIndex()` the last
 * one applied; after a crash the store reopens at the former and Raft applies the rest
 * again, which gives the same results (the request-id table is part of each batch).
 *
 * Determinism: the same log gives every member byte-identical backend contents (no
 * clocks, randomness or map-order dependence in anything stored or hashed), however
 * the writes were batched; options only change speed.
 *
 * Concurrency: `apply`, `restore`, `txnRead` and `hashKV` run one at a time, in call
 * order; `snapshot` and `flush` take their point in that order too. `range` runs at
 * once, concurrently with them, and sees the last completed revision consistently.
 */
export class MvccStore {
  private state: MvccState;
  private requests: RequestTable;
  private readonly backend: MvccBackend;
  private readonly leases: LeaseRegistry;
  private readonly logger: MvccLogger | undefined;
  private readonly metrics: MvccMetrics | undefined;
  private readonly chunkBytes: number;
  private readonly cacheBytes: number;
  private readonly writes: BackendFlusher;
  /** The index of the last entry applied in memory (`appliedIndex()` may lag behind). */
  private applied: number;
  private tail: Promise<unknown> = Promise.resolve();
  private failure: StoreFailedError | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Set while a restore switches slots; reads wait for it. */
  private switching: Promise<void> | undefined;

  /** Use `openMvccStore`; a store must load before use. */
  constructor(options: MvccStoreOptions) {
    this.backend = options.backend;
    this.cacheBytes = options.valueCacheBytes ?? DEFAULT_VALUE_CACHE_BYTES;
    this.leases = options.leases ?? NO_LEASES;
    this.logger = options.logger;
    this.chunkBytes = options.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES;
    this.metrics =
      options.registry === undefined
        ? undefined
        : createMvccMetrics(options.registry, {
            currentRevision: () => this.state.currentRev,
            compactedRevision: () => this.compactedRevision(),
            keys: () => this.state.index.size,
            valueCacheBytes: () => this.state.cache.bytes,
            pendingBytes: () => this.writes.pendingBytes,
            durableAppliedIndex: () => this.backend.appliedIndex(),
          });
    this.writes = new BackendFlusher(
      this.backend,
      options,
      (cause) => this.fail(cause),
      this.metrics,
    );
    this.applied = this.backend.appliedIndex();
    this.state = new MvccState(this.backend, this.writes, new Keyspace(0), this.cacheBytes);
    this.requests = new RequestTable(this.state.keys);
  }

  /**
   * @internal Reads the backend into memory; called once by `openMvccStore`. Leftovers
   * of an interrupted restore in the unused slot are deleted first.
   */
  async load(): Promise<void> {
    const keys = slotFromPointer(await this.backend.get(Keyspace.SLOT_POINTER));
    const spare = keys.other();
    for await (const _ of this.backend.range({ gte: spare.start, lt: spare.end, limit: 1 })) {
      this.logger?.warn(
        { slot: spare.slot },
        "mvcc: removing the remains of an interrupted snapshot restore",
      );
      await this.backend.write({
        operations: [{ type: "deleteRange", gte: spare.start, lt: spare.end }],
      });
      break;
    }
    const loaded = await this.readBackend(keys);
    this.state = loaded.state;
    this.requests = loaded.requests;
    this.applied = this.backend.appliedIndex();
    this.writes.reset(this.applied);
  }

  /**
   * The index of the last entry whose effects the backend holds (0 when new): what a
   * restart resumes from, and how far raft-core may compact its log. Lags behind
   * `lastAppliedIndex()` by the batches not yet written.
   */
  appliedIndex(): number {
    return this.backend.appliedIndex();
  }

  /** The index of the last entry applied (in memory, and visible to reads). */
  lastAppliedIndex(): number {
    return this.applied;
  }

  /** The revision of the last applied write (1 for a new store, as in etcd). */
  currentRevision(): number {
    return this.state.currentRev;
  }

  /** The revision history is compacted up to; 0 before any compaction. */
  compactedRevision(): number {
    return Math.max(0, this.state.compactRev);
  }

  /**
   * Applies committed entries in log order and returns one result per entry. Entries at
   * or below `lastAppliedIndex()` are skipped (`undefined`). Non-normal entries and empty
   * ones yield `undefined` but advance the index.
   *
   * Resolves once the entries are applied in memory and visible to reads, without
   * waiting for the backend: their writes join the open batch, which a background write
   * makes durable later (see `batchIntervalMs`). It waits only while `maxPendingBytes`
   * are unwritten, and for backend reads some txns and prev_kv puts need.
   *
   * A request id seen within the window (`REQUEST_ID_WINDOW`) is answered with the first
   * result and not applied again.
   *
   * Rejects with `ApplyOrderError` (nothing applied) when the entries leave a gap after
   * the applied index, and with `StoreFailedError` once the backend failed (a write or a
   * read, now or in an earlier background write): the store then refuses all further
   * calls and must be reopened.
   */
  apply(entries: readonly ApplyEntry[]): Promise<ApplyResult[]> {
    return this.serialize(() => this.applyNow(entries));
  }

  /**
   * A range read at the current revision or `request.revision`, with etcd 3.4's
   * semantics (see `range` in range.ts). Throws `EmptyKeyError`, `FutureRevisionError`,
   * `CompactedError`, or `StoreFailedError` / `StoreClosedError`.
   */
  async range(request: RangeRequest): Promise<RangeResponse> {
    this.assertUsable();
    if (this.switching !== undefined) await this.switching;
    this.assertUsable();
    validateRangeRequest(request);
    this.metrics?.ranges.inc();
    // The view must be taken and read in one synchronous run up to its first fetch.
    return range(this.state.readView(), request);
  }

  /**
   * A read-only txn (every op of both branches a range) evaluated at the current revision
   * outside Raft, as etcd serves them. Call `validateTxnRequest` with the server's limits
   * first. Throws `InvalidRequestError` for a txn that writes, and the errors of a
   * txn's checks (`FutureRevisionError`, `CompactedError`, ...).
   */
  txnRead(request: TxnRequest): Promise<TxnResponse> {
    return this.serialize(async () => {
      if (!isTxnReadOnly(request))
        throw new InvalidRequestError("raftkv: txnRead takes read-only txns only");
      validateTxnRequest(request, Number.POSITIVE_INFINITY);
      return applyTxn(this.state.readView(), request, this.leases);
    });
  }

  /**
   * A hash of the key-value state at `revision` (0: current), comparable between
   * members: CRC-32C over the stored revisions at or below it that a compaction there
   * would keep (etcd's HashKV rule; the bytes hashed are raftkv's, so the value differs
   * from etcd's). Everything applied before the call is written to the backend first,
   * so the hash covers all of it, however each member happened to batch its writes.
   * Throws `CompactedError` at or below the compacted revision, `FutureRevisionError`
   * above the current one, `StoreFailedError` if that write fails.
   */
  async hashKV(revision = 0): Promise<HashKvResult> {
    const pinned = await this.serialize(async () => {
      const { compactRev, currentRev } = this.state;
      if (revision > 0 && revision <= compactRev) throw new CompactedError();
      if (revision > currentRev) throw new FutureRevisionError();
      const rev = revision <= 0 ? currentRev : revision;
      const kept = new Map<number, Set<number>>();
      this.state.index.keep(rev, (main, sub) => {
        let subs = kept.get(main);
        if (subs === undefined) {
          subs = new Set();
          kept.set(main, subs);
        }
        subs.add(sub);
      });
      return {
        rev,
        compactRev,
        kept,
        keys: this.state.keys,
        pinning: this.writes.flushedSnapshot(),
      };
    });
    const { rev, compactRev, kept, keys, pinning } = pinned;
    const snapshot = await pinning;
    try {
      let hash = crc32c(0, KEY_BUCKET_NAME);
      const entries = snapshot.range({
        gte: keys.revisionLowerBound(0),
        lt: keys.revisionLowerBound(rev + 1),
      });
      for await (const { key, value } of entries) {
        const { main, sub } = keys.parseRevisionKey(key);
        if (main <= compactRev && kept.get(main)?.has(sub) !== true) continue;
        // Hashed in portable form, so members using different slots agree.
        hash = crc32c(hash, keys.toPortable(key));
        hash = crc32c(hash, value);
      }
      return { hash, revision: rev, compactRevision: Math.max(0, compactRev) };
    } finally {
      snapshot.release();
    }
  }

  /**
   * The whole state as left by every `apply` called before it (call it between applies,
   * as raft-core does: then that is `lastAppliedIndex()` at the moment of the call, and
   * the stream's header carries that index), as a stream of chunks of at most
   * `snapshotChunkBytes` (see snapshot-stream.ts). Later applies do not change what it
   * yields. The state is written to the backend first and read from a backend snapshot
   * pinned as that write completes, so the stream starts after at most one batch write.
   * Throws `StoreFailedError` / `StoreClosedError`; the stream rejects with them if the
   * store fails or closes before it is pinned.
   */
  snapshot(): AsyncIterable<Uint8Array> {
    this.assertUsable();
    const pinning: Promise<BackendSnapshot> = this.serialize(async () => ({
      pinned: this.writes.flushedSnapshot(),
    })).then((step) => step.pinned);
    // The stream reports a failure when read; a stream nobody reads must not crash the
    // process with an unhandled rejection.
    pinning.catch(() => {});
    const chunkBytes = this.chunkBytes;
    return (async function* () {
      const pinned = await pinning;
      try {
        // The slot is read from the pinned view itself, so it matches the data.
        const keys = slotFromPointer(await pinned.get(Keyspace.SLOT_POINTER));
        yield* encodeSnapshot(
          pinned.appliedIndex,
          portable(keys, pinned.range({ gte: keys.start, lt: keys.end })),
          chunkBytes,
        );
      } finally {
        pinned.release();
      }
    })();
  }

  /**
   * Replaces the whole state with a snapshot stream; afterwards `appliedIndex()` is
   * `metadata.index`. The stream is written beside the live state (in the backend's
   * other slot) and checked as it is read; only a complete, valid stream is switched to,
   * in one atomic batch. A stream for another index or a defective one rejects with
   * `CorruptStateError` and leaves the old state in place, also across a crash.
   */
  restore(metadata: RestoreMetadata, data: AsyncIterable<Uint8Array>): Promise<void> {
    return this.serialize(() => this.restoreNow(metadata, data));
  }

  /**
   * Writes everything applied so far to the backend: resolves once `appliedIndex()` has
   * reached `lastAppliedIndex()` as of the call. Not needed for safety under Raft (the
   * log replays what a crash loses); useful before a planned stop or a backup. Rejects
   * with `StoreFailedError` if the write fails (the store then fails), `StoreClosedError`
   * after `close()`.
   */
  async flush(): Promise<void> {
    const step = await this.serialize(async () => ({ done: this.writes.flushed() }));
    await step.done;
  }

  /**
   * Stops accepting calls, waits for the running one and writes everything applied to
   * the backend. The backend stays open. Rejects with `StoreFailedError` if that last
   * write fails; resolves without writing if the store had already failed (the failure
   * was reported then). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    await this.tail;
    try {
      if (this.failure === undefined) await this.writes.flushed();
    } finally {
      this.writes.stop();
    }
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      this.assertUsable();
      return work();
    });
    this.tail = run.catch(() => {});
    return run;
  }

  private assertUsable(): void {
    if (this.closed) throw new StoreClosedError();
    if (this.failure !== undefined) throw this.failure;
  }

  private fail(cause: unknown): StoreFailedError {
    if (this.failure !== undefined) return this.failure;
    const failure = new StoreFailedError(
      "raftkv: mvcc store failed; reopen it to recover from the backend",
      { cause },
    );
    this.failure = failure;
    // Memory ran ahead of the backend; what was not written is replayed from the Raft
    // log after a reopen.
    this.writes.abort(failure);
    this.logger?.error(
      { err: cause, appliedIndex: this.backend.appliedIndex(), lastAppliedIndex: this.applied },
      "mvcc: store failed; reopen required",
    );
    return failure;
  }

  private async applyNow(entries: readonly ApplyEntry[]): Promise<ApplyResult[]> {
    const applied = this.applied;
    let expected = applied + 1;
    for (const entry of entries) {
      if (entry.index <= applied) continue;
      if (entry.index !== expected) {
        throw new ApplyOrderError(`raftkv: entry ${entry.index} does not follow ${expected - 1}`);
      }
      expected++;
    }
    const last = expected - 1;
    const results: ApplyResult[] = new Array<ApplyResult>(entries.length).fill(undefined);
    if (last === applied) return results;
    // Rejects with the store's failure if a background write failed meanwhile.
    if (this.writes.full) await this.writes.waitForRoom();
    const started = this.metrics === undefined ? 0 : performance.now();
    this.writes.beginApply();
    try {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        if (entry.index <= applied || entry.type !== 0 || entry.data.length === 0) continue;
        const result = this.applyData(entry.data);
        results[i] = result instanceof Promise ? await result : result;
      }
    } catch (cause) {
      throw this.fail(cause);
    }
    this.applied = last;
    this.writes.endApply(last);
    if (this.metrics !== undefined) {
      this.metrics.appliedEntries.inc(last - applied);
      this.metrics.applySeconds.observe((performance.now() - started) / 1000);
    }
    return results;
  }

  /** One entry's request. Synchronous for plain puts and deletes, the common case. */
  private applyData(data: Uint8Array): ApplyResult | Promise<ApplyResult> {
    let request: KvRequest;
    try {
      request = decodeKvRequest(data);
    } catch (cause) {
      return new InvalidRequestError("raftkv: log entry is not a raftkv.kv.v1.KvRequest", {
        cause,
      });
    }
    const { id } = request;
    if (id !== 0n) {
      const first = this.requests.lookup(id);
      if (first !== undefined) return first;
    }
    let outcome: KvResponse | Promise<KvResponse>;
    try {
      outcome = this.execute(request);
    } catch (error) {
      return this.settle(id, requestError(error));
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (response) => this.settle(id, response),
        (error: unknown) => this.settle(id, requestError(error)),
      );
    }
    return this.settle(id, outcome);
  }

  /** Records the result of a request with an id; returns the result. */
  private settle(id: bigint, result: ApplyResult): ApplyResult {
    if (id !== 0n) this.requests.remember(id, result, this.state.batch);
    return result;
  }

  private execute(request: KvRequest): KvResponse | Promise<KvResponse> {
    const { request: inner } = request;
    switch (inner.case) {
      case "put": {
        validatePutRequest(inner.value);
        if (inner.value.lease !== 0n && !this.leases.has(inner.value.lease))
          throw new LeaseNotFoundError();
        const txn = new WriteTxn(this.state);
        return ended(txn, applyPut(txn, inner.value));
      }
      case "deleteRange": {
        validateDeleteRangeRequest(inner.value);
        const txn = new WriteTxn(this.state);
        return ended(txn, applyDeleteRange(txn, inner.value));
      }
      case "txn": {
        // The configurable limits were the proposer's to check; here only what every
        // member decides the same way.
        validateTxnRequest(inner.value, Number.POSITIVE_INFINITY);
        const txn = new WriteTxn(this.state);
        return applyTxn(txn, inner.value, this.leases).then(
          (response) => {
            txn.end();
            return response;
          },
          (error: unknown) => {
            // Every deterministic failure is found before the first change; one after it
            // means memory and batch hold half a txn, which only a reopen can undo.
            if (txn.changes > 0) {
              throw new CorruptStateError("raftkv: txn failed after it began changing state", {
                cause: error,
              });
            }
            throw error;
          },
        );
      }
      case "compaction":
        return this.compact(inner.value);
      default:
        throw new InvalidRequestError("raftkv: request has no operation");
    }
  }

  /**
   * etcd's compaction: `CompactedError` at or below the compacted revision,
   * `FutureRevisionError` above the current one; otherwise the index drops the history
   * below `revision` and the same batch deletes those revisions from the backend. Physical
   * and logical compaction are therefore the same step here.
   */
  private compact(request: CompactionRequest): CompactionResponse {
    const { state } = this;
    const rev = toRevision(request.revision);
    if (rev <= state.compactRev) throw new CompactedError();
    if (rev > state.currentRev) throw new FutureRevisionError();
    const { batch } = state;
    state.compactRev = rev;
    let removed = 0;
    state.index.compact(rev, (main, sub) => {
      batch.delete(state.keys.revisionKey(main, sub));
      removed++;
    });
    batch.put(state.keys.compactedKey, uint64BE(rev));
    this.logger?.info({ revision: rev, removed }, "mvcc: compacted");
    return { $typeName: "etcdserverpb.CompactionResponse", header: header(state.currentRev) };
  }

  private async restoreNow(
    metadata: RestoreMetadata,
    data: AsyncIterable<Uint8Array>,
  ): Promise<void> {
    // The old state must be whole in the backend first: a defective stream leaves it in
    // place, and the restore writes below go around the batches.
    await this.writes.flushed();
    const live = this.state.keys;
    const target = live.other();
    // Whatever an earlier, interrupted restore left in the spare slot goes first.
    let operations: BackendOperation[] = [
      { type: "deleteRange", gte: target.start, lt: target.end },
    ];
    let bytes = 0;
    for await (const item of decodeSnapshot(data)) {
      if (item.kind === "header") {
        if (item.appliedIndex !== metadata.index) {
          throw new CorruptStateError(
            `snapshot was taken at index ${item.appliedIndex}, but restore was asked for ${metadata.index}`,
          );
        }
        continue;
      }
      operations.push({
        type: "put",
        key: target.fromPortable(item.entry.key),
        value: item.entry.value,
      });
      bytes += item.entry.key.length + item.entry.value.length;
      if (operations.length >= RESTORE_BATCH_OPERATIONS || bytes >= RESTORE_BATCH_BYTES) {
        await this.backend.write({ operations });
        operations = [];
        bytes = 0;
      }
    }
    // The stream is complete and verified: switch slots and drop the old state at once.
    operations.push(
      { type: "put", key: Keyspace.SLOT_POINTER, value: Uint8Array.of(target.slot) },
      { type: "deleteRange", gte: live.start, lt: live.end },
    );
    let switched!: () => void;
    this.switching = new Promise((resolve) => {
      switched = resolve;
    });
    try {
      try {
        await this.backend.write({ operations, appliedIndex: metadata.index, sync: true });
      } catch (cause) {
        throw this.fail(cause);
      }
      this.applied = metadata.index;
      this.writes.reset(metadata.index);
      const loaded = await this.readBackend(target).catch((cause: unknown) => {
        throw this.fail(cause);
      });
      this.state = loaded.state;
      this.requests = loaded.requests;
    } finally {
      this.switching = undefined;
      switched();
    }
    this.logger?.info(
      {
        appliedIndex: metadata.index,
        revision: this.state.currentRev,
        keys: this.state.index.size,
      },
      "mvcc: restored from snapshot",
    );
  }

  private async readBackend(keys: Keyspace): Promise<{ state: MvccState; requests: RequestTable }> {
    const state = new MvccState(this.backend, this.writes, keys, this.cacheBytes);
    const requests = new RequestTable(keys);
    const loader = new StateLoader(state, requests);
    const snapshot = this.backend.snapshot();
    try {
      for await (const entry of snapshot.range({ gte: keys.start, lt: keys.end }))
        loader.add(entry);
    } finally {
      snapshot.release();
    }
    loader.finish();
    return { state, requests };
  }
}

/** Backend entries of `keys`'s slot with their keys made portable. */
async function* portable(
  keys: Keyspace,
  entries: AsyncIterable<BackendEntry>,
): AsyncGenerator<BackendEntry> {
  for await (const { key, value } of entries) yield { key: keys.toPortable(key), value };
}

/** etcd hashes its bucket name first; raftkv keeps the habit so empty stores hash alike. */
const KEY_BUCKET_NAME = new TextEncoder().encode("key");

/**
 * `error` as a request's deterministic result; anything else (a corrupt backend, a bug)
 * is rethrown and fails the store.
 */
function requestError(error: unknown): MvccError {
  if (
    error instanceof MvccError &&
    !(error instanceof CorruptStateError) &&
    !(error instanceof StoreFailedError) &&
    !(error instanceof StoreClosedError) &&
    !(error instanceof ApplyOrderError)
  ) {
    return error;
  }
  throw error;
}

/** Ends a write txn once its response is ready. */
function ended<T>(txn: WriteTxn, response: T | Promise<T>): T | Promise<T> {
  if (!(response instanceof Promise)) {
    txn.end();
    return response;
  }
  return response.then((value) => {
    txn.end();
    return value;
  });
}
