import { StorageFailedError, StoreClosedError } from "./errors.js";
import type { NativeDb, NativeWalFile } from "./native.js";
import type { WalSyncer } from "./wal-sync.js";

/** Microtask turns the writer waits before taking a group; costs well under a microsecond. */
const GATHER_TICKS = 8;

/** One operation of an atomic write, on stored (already keyspace-prefixed) keys. */
export type StoredOp =
  | {
      kind: "put";
      key: Uint8Array;
      value: Uint8Array;
      /**
       * Only the last such put of this key in a group is written (the earlier ones would
       * be overwritten in the same atomic batch anyway); used for the hard state, which
       * every save rewrites.
       */
      coalesce?: boolean;
    }
  | { kind: "delete"; key: Uint8Array }
  /** Deletes `[start, end)`. */
  | { kind: "deleteRange"; start: Uint8Array; end: Uint8Array };

/** A write submitted by one caller; it becomes durable with the group it lands in. */
export interface PendingWrite {
  ops: readonly StoredOp[];
  /** Encoded size, for the queue and batch limits. */
  bytes: number;
  sync: boolean;
  /** Pin a snapshot of the state before the group carrying this write lands. */
  pinsSnapshot?: boolean | undefined;
  /** Runs as soon as RocksDB has applied the write, before it is synced. */
  onLanded?: (() => void) | undefined;
  /** Runs after the write is durable (or applied, when not synced), before the promise resolves. */
  onCommitted?: (() => void) | undefined;
}

interface Queued extends PendingWrite {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /**
   * Upper bound, in bytes, of one merged RocksDB write batch. A single larger write
   * still goes through alone. Default 16 MiB.
   */
  maxBatchBytes?: number;
  /**
   * Bytes that may wait for the write in flight before `reserve` makes callers wait.
   * Default 64 MiB.
   */
  maxQueuedBytes?: number;
}

/** Observes each group, e.g. to pin a snapshot of the state before it lands. */
export interface GroupHooks {
  /** Right before the group is handed to RocksDB. */
  beforeWrite?: (group: readonly PendingWrite[]) => void;
  /** Once the group resolved or failed; called once per group, in order. */
  afterWrite?: (group: readonly PendingWrite[]) => void;
  /** The committer stopped on this error; called once. */
  failed?: (error: StorageFailedError) => void;
}

/**
 * Group commit: writes submitted while a write is in flight are merged into the next
 * single RocksDB write batch, synced once if any of them asked for it. Throughput then
 * grows with load instead of being capped at one fsync per write. Writes land in
 * submission order; each group is atomic, and so is each write within it.
 *
 * After any failed write or sync, the committer fails every queued and later write with
 * StorageFailedError: after a failed fsync the disk state is unknown, and retrying could
 * acknowledge data that was dropped (the "fsyncgate" lesson).
 */
export class GroupCommitter {
  private readonly maxBatchBytes: number;
  private readonly maxQueuedBytes: number;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  /** True while `run` owns the queue; cleared in the same step that sees it empty. */
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private failure: StorageFailedError | undefined;
  private closed = false;
  private readonly roomWaiters: Array<{ bytes: number; resolve: () => void }> = [];
  /** A waiting caller was let in and has not called `roomUsed()` yet. */
  private admitting = false;
  /** Groups taken from the queue and not yet resolved, oldest first. */
  private readonly unresolved: Queued[][] = [];

  constructor(
    private readonly db: NativeDb,
    private readonly wal: WalSyncer,
    options: GroupCommitOptions = {},
    private readonly hooks: GroupHooks = {},
  ) {
    this.maxBatchBytes = options.maxBatchBytes ?? 16 * 1024 * 1024;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024;
  }

  /** The error that stopped the committer, if any. */
  get failed(): StorageFailedError | undefined {
    return this.failure;
  }

  /**
   * Resolves when `bytes` more may be queued; returns undefined when they may be queued
   * now. Callers are let in one at a time, in order: a caller whose promise resolved must
   * call `roomUsed()` once it has submitted its write (or given up), which lets the next
   * one in. So the queue holds at most `maxQueuedBytes` (or one write, if larger).
   */
  reserve(bytes: number): Promise<void> | undefined {
    if (!this.admitting && this.roomWaiters.length === 0 && this.hasRoom(bytes)) return undefined;
    return new Promise((resolve) => {
      this.roomWaiters.push({ bytes, resolve });
      this.admitNext();
    });
  }

  /** See `reserve`. */
  roomUsed(): void {
    this.admitting = false;
    this.admitNext();
  }

  /** Throws the reason no write can be accepted now, if there is one. */
  checkWritable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new StoreClosedError();
  }

  /** Queues a write; resolves once it is durable (synced when `sync`). */
  submit(write: PendingWrite): Promise<void> {
    try {
      this.checkWritable();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      // A fixed-shape record rather than a spread: this runs once per write.
      this.queue.push({
        ops: write.ops,
        bytes: write.bytes,
        sync: write.sync,
        pinsSnapshot: write.pinsSnapshot,
        onLanded: write.onLanded,
        onCommitted: write.onCommitted,
        resolve,
        reject,
      });
      this.queuedBytes += write.bytes;
      if (!this.running) {
        this.running = true;
        this.loop = this.run().catch((err: unknown) => {
          // Only a bug (a throwing hook) gets here; fail loudly rather than hang callers.
          this.fail(err);
          this.running = false;
        });
      }
    });
  }

  /** Waits for queued writes to land, then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.loop;
    this.releaseWaiters();
  }

  private hasRoom(bytes: number): boolean {
    return this.queuedBytes === 0 || this.queuedBytes + bytes <= this.maxQueuedBytes;
  }

  /** Lets the first waiting caller in if its write fits; one admission at a time. */
  private admitNext(): void {
    if (this.admitting) return;
    const next = this.roomWaiters[0];
    if (next === undefined || !this.hasRoom(next.bytes)) return;
    this.roomWaiters.shift();
    this.admitting = true;
    next.resolve();
  }

  /** Lets every waiting caller go, to find the committer failed or closed. */
  private releaseWaiters(): void {
    for (const w of this.roomWaiters.splice(0)) w.resolve();
  }

  private takeGroup(): Queued[] {
    let bytes = 0;
    let n = 0;
    for (const w of this.queue) {
      if (n > 0 && bytes + w.bytes > this.maxBatchBytes) break;
      bytes += w.bytes;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /**
   * The writer loop. Group N+1 is written to RocksDB while group N's WAL sync runs, so
   * a write and a sync overlap; at most one sync is outstanding, and groups resolve in
   * order (N before N+1), each only after its own sync.
   */
  private async run(): Promise<void> {
    let syncing: Promise<void> | undefined;
    for (;;) {
      while (this.queue.length > 0 && this.failure === undefined) {
        // Callers whose writes just resolved usually submit their next one a few
        // microtasks later; letting them in makes the group, and so each sync, larger.
        for (let i = 0; i < GATHER_TICKS; i++) await undefined;
        const group = this.takeGroup();
        this.unresolved.push(group);
        this.hooks.beforeWrite?.(group);
        try {
          await this.writeGroup(group);
        } catch (err) {
          this.fail(err);
          break;
        }
        for (const w of group) w.onLanded?.();
        const current = group.some((w) => w.sync) ? this.wal.currentWal() : undefined;
        if (syncing !== undefined) await syncing;
        if (this.failure !== undefined) break;
        syncing = this.syncAndResolve(group, current);
      }
      if (syncing !== undefined) await syncing;
      syncing = undefined;
      // Writes submitted while the last sync ran are still ours to write.
      if (this.queue.length === 0 || this.failure !== undefined) {
        this.running = false;
        return;
      }
    }
  }

  private async writeGroup(group: readonly Queued[]): Promise<void> {
    let opCount = 0;
    let latest: Map<string, StoredOp> | undefined;
    for (const w of group) {
      opCount += w.ops.length;
      for (const op of w.ops) {
        if (op.kind === "put" && op.coalesce === true) {
          latest ??= new Map();
          latest.set(String.fromCharCode(...op.key), op);
        }
      }
    }
    if (opCount === 0) return;
    const batch = this.db.write({ autoDestroy: true, capacity: Math.max(8, opCount) });
    for (const w of group) {
      for (const op of w.ops) {
        if (op.kind === "put") {
          if (op.coalesce === true && latest?.get(String.fromCharCode(...op.key)) !== op) continue;
          batch.tryPut(op.key, op.value);
        } else if (op.kind === "delete") batch.tryDelete(op.key);
        else batch.tryDeleteRange(op.start, op.end);
      }
    }
    await batch.flush();
  }

  /** Never rejects: a failed sync fails the committer instead. */
  private async syncAndResolve(
    group: Queued[],
    current: Promise<NativeWalFile> | undefined,
  ): Promise<void> {
    try {
      if (current !== undefined) await this.wal.sync(current);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.failure !== undefined) return;
    this.unresolved.shift();
    for (const w of group) {
      this.queuedBytes -= w.bytes;
      w.onCommitted?.();
    }
    this.hooks.afterWrite?.(group);
    for (const w of group) w.resolve();
    this.admitNext();
  }

  /** Rejects every write not yet resolved, and every later one. */
  /**
   * Stops this committer because another one sharing the data dir failed: after a failed
   * write or sync the disk state is unknown for every writer.
   */
  stopWith(failure: StorageFailedError): void {
    this.fail(failure);
  }

  private fail(cause: unknown): void {
    if (this.failure !== undefined) return;
    this.failure =
      cause instanceof StorageFailedError
        ? cause
        : new StorageFailedError(
            `write to the data dir failed (${rootMessage(cause)}); the store accepts no more writes`,
            { cause },
          );
    this.hooks.failed?.(this.failure);
    const groups = this.unresolved.splice(0);
    for (const group of groups) this.hooks.afterWrite?.(group);
    const failed = [...groups.flat(), ...this.queue.splice(0)];
    this.queuedBytes = 0;
    for (const w of failed) w.reject(this.failure);
    this.releaseWaiters();
  }
}

/** The innermost message of an error chain: the binding wraps the RocksDB status in a cause. */
function rootMessage(err: unknown): string {
  let e = err;
  for (let depth = 0; depth < 8 && e instanceof Error && e.cause !== undefined; depth++)
    e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
