import { ApplyBatch, type RevisionOverlay } from "./apply-batch.js";
import type { BackendSnapshot, MvccBackend } from "./backend.js";
import { InvalidOptionError } from "./errors.js";
import type { MvccMetrics } from "./metrics.js";

/** Default `batchIntervalMs`: etcd's `--backend-batch-interval`. */
export const DEFAULT_BATCH_INTERVAL_MS = 100;
/** Default `batchLimitOps`: etcd's `--backend-batch-limit`. */
export const DEFAULT_BATCH_LIMIT_OPS = 10_000;
/** Default `batchLimitBytes`: 16 MiB. */
export const DEFAULT_BATCH_LIMIT_BYTES = 16 * 1024 * 1024;
/** Default `maxPendingBytes`: 64 MiB. */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** When applied operations are written to the backend; see `MvccStoreOptions`. */
export interface BatchOptions {
  batchIntervalMs?: number | undefined;
  batchLimitOps?: number | undefined;
  batchLimitBytes?: number | undefined;
  maxPendingBytes?: number | undefined;
}

interface Limits {
  intervalMs: number;
  ops: number;
  bytes: number;
  maxPending: number;
}

/** A batch cut from the open one, numbered in write order. */
interface Sealed {
  batch: ApplyBatch;
  seq: number;
}

/** Someone waiting for every batch up to `seq` to be written. */
interface Waiter {
  seq: number;
  /** Take a backend snapshot the moment that write completes. */
  pin: boolean;
  resolve(snapshot: BackendSnapshot | undefined): void;
  reject(error: unknown): void;
}

/**
 * Writes what `apply` did to the backend in the background, as etcd's backend commits its
 * batch transaction: applies add operations to the open batch; the batch is sealed and
 * written as one atomic backend write (carrying the index of its last entry) when
 * `batchIntervalMs` has passed since it was opened, or when it holds `batchLimitOps`
 * operations or `batchLimitBytes` bytes. One write is in flight at a time; the next batch
 * fills meanwhile. Until its write completes, a batch's records are served to reads from
 * its overlay (`overlays()`).
 *
 * Safety comes from Raft, not from this class: the backend's applied index only names
 * whole batches that were written, and the Raft log holds every entry after it (raft-core
 * compacts the log only up to the state machine's durable `appliedIndex()`), so entries
 * lost from unwritten batches in a crash are applied again on restart.
 *
 * A batch is only sealed between apply calls (`beginApply` / `endApply`), never in the
 * middle of one, so its applied index always names whole entries.
 */
export class BackendFlusher {
  /** The batch applies write into. */
  open: ApplyBatch;
  /** Batches sealed at an exact point (a snapshot, `flush`), waiting for their write. */
  private readonly sealed: Sealed[] = [];
  private writing: Sealed | undefined;
  /** Bytes of the sealed batches and the one being written. */
  private sealedBytes = 0;
  private readonly waiters: Waiter[] = [];
  private readonly writeWaiters: Array<{ resolve(): void; reject(error: unknown): void }> = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A commit was asked for while it could not start (an apply ran, or a write was in flight). */
  private due = false;
  private applying = false;
  private failure: Error | undefined;
  private nextSeq = 1;
  /** Sequence number of the last batch whose write completed. */
  private writtenSeq = 0;
  /** The index of the newest sealed batch (or of the backend, when none was sealed yet). */
  private sealedIndex: number;
  private overlayList: RevisionOverlay[] | undefined;
  private readonly limits: Limits;

  constructor(
    private readonly backend: MvccBackend,
    options: BatchOptions,
    /** Turns a failed write into the error every waiter and later call gets. */
    private readonly onFailure: (cause: unknown) => Error,
    private readonly metrics: MvccMetrics | undefined,
  ) {
    this.limits = batchLimits(options);
    const applied = backend.appliedIndex();
    this.open = new ApplyBatch(applied);
    this.sealedIndex = applied;
  }

  /** Bytes applied but not yet written (open, sealed and in-flight batches). */
  get pendingBytes(): number {
    return this.sealedBytes + this.open.bytes;
  }

  /**
   * The overlays of every batch not yet written, oldest first. A main revision lives in
   * exactly one batch (batches are cut between applies). The array is shared until the
   * set of batches changes; callers must not modify it.
   */
  overlays(): RevisionOverlay[] {
    if (this.overlayList === undefined) {
      const list: RevisionOverlay[] = [];
      if (this.writing !== undefined) list.push(this.writing.batch.overlay);
      for (const { batch } of this.sealed) list.push(batch.overlay);
      list.push(this.open.overlay);
      this.overlayList = list;
    }
    return this.overlayList;
  }

  /** Whether an apply must wait for room (`waitForRoom`) before it starts. */
  get full(): boolean {
    return this.pendingBytes > this.limits.maxPending;
  }

  /**
   * Resolves once the pending bytes are at most `maxPendingBytes`, waiting for writes to
   * complete (and starting them, if none runs). Rejects with the failure once a write failed.
   */
  async waitForRoom(): Promise<void> {
    this.metrics?.backpressureWaits.inc();
    while (this.full) {
      if (this.failure !== undefined) throw this.failure;
      if (this.writing === undefined && this.sealed.length === 0) this.seal();
      this.pump();
      await new Promise<void>((resolve, reject) => this.writeWaiters.push({ resolve, reject }));
    }
  }

  /** An apply call starts: no batch is cut until `endApply`. */
  beginApply(): void {
    this.applying = true;
  }

  /** An apply call ended with the entries up to `appliedIndex` applied. */
  endApply(appliedIndex: number): void {
    this.applying = false;
    this.open.appliedIndex = appliedIndex;
    if (this.failure !== undefined) return;
    const open = this.open;
    if (this.due || open.operations.length >= this.limits.ops || open.bytes >= this.limits.bytes) {
      this.commitSoon();
    } else if (this.timer === undefined && this.dirty()) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.commitSoon();
      }, this.limits.intervalMs);
      // Pending operations never keep a process alive: Raft replays them after a restart.
      this.timer.unref?.();
    }
  }

  /**
   * Seals everything applied so far and resolves once it is written. Call between
   * applies. Rejects with the failure error once a write failed.
   */
  flushed(): Promise<void> {
    return this.whenWritten(false).then(() => {});
  }

  /**
   * `flushed`, resolving with a backend snapshot taken the moment that write completes,
   * before any later write starts (the caller releases it): it holds exactly the state
   * applied before this call, and its `appliedIndex` is that of the last applied entry.
   */
  flushedSnapshot(): Promise<BackendSnapshot> {
    return this.whenWritten(true) as Promise<BackendSnapshot>;
  }

  private whenWritten(pin: boolean): Promise<BackendSnapshot | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.seal();
    const last = this.sealed[this.sealed.length - 1] ?? this.writing;
    if (last === undefined) {
      try {
        return Promise.resolve(pin ? this.backend.snapshot() : undefined);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const done = new Promise<BackendSnapshot | undefined>((resolve, reject) => {
      this.waiters.push({ seq: last.seq, pin, resolve, reject });
    });
    this.pump();
    return done;
  }

  /**
   * Starts over at `appliedIndex` after the backend was rewritten beneath (a snapshot
   * restore). Only valid when everything was written (`flushed` resolved) and no apply runs.
   */
  reset(appliedIndex: number): void {
    this.open = new ApplyBatch(appliedIndex);
    this.sealedIndex = appliedIndex;
    this.overlayList = undefined;
  }

  /**
   * Stops after a failure found elsewhere (the store failed): drops every unwritten batch
   * and rejects every waiter with `error`. A write in flight still completes or fails on
   * its own; nothing is written after it.
   */
  abort(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.clearTimer();
    this.sealed.length = 0;
    this.sealedBytes = this.writing?.batch.bytes ?? 0;
    this.open = new ApplyBatch(this.open.appliedIndex);
    this.overlayList = undefined;
    for (const w of this.waiters.splice(0)) w.reject(error);
    for (const w of this.writeWaiters.splice(0)) w.reject(error);
  }

  /** Stops the interval timer; later commits happen only through `flushed`. */
  stop(): void {
    this.clearTimer();
  }

  private dirty(): boolean {
    return this.open.operations.length > 0 || this.open.appliedIndex > this.sealedIndex;
  }

  /** A commit of the open batch as soon as one can start. */
  private commitSoon(): void {
    if (this.applying || this.writing !== undefined || this.sealed.length > 0) {
      this.due = true;
      return;
    }
    this.seal();
    this.pump();
  }

  /** Queues the open batch for writing (if it holds anything) and opens a new one. */
  private seal(): void {
    this.due = false;
    this.clearTimer();
    if (!this.dirty()) return;
    const batch = this.open;
    this.sealed.push({ batch, seq: this.nextSeq++ });
    this.sealedBytes += batch.bytes;
    this.sealedIndex = batch.appliedIndex;
    this.open = new ApplyBatch(batch.appliedIndex);
    this.overlayList = undefined;
  }

  /** Starts writing the oldest sealed batch unless a write is in flight. */
  private pump(): void {
    if (this.writing !== undefined || this.failure !== undefined) return;
    const next = this.sealed.shift();
    if (next === undefined) return;
    this.writing = next;
    const { batch } = next;
    const started = this.metrics === undefined ? 0 : performance.now();
    let write: Promise<void>;
    try {
      write = this.backend.write({
        operations: batch.operations,
        appliedIndex: batch.appliedIndex,
      });
    } catch (error) {
      write = Promise.reject(error);
    }
    write.then(
      () => {
        this.metrics?.commitSeconds.observe((performance.now() - started) / 1000);
        this.written(next);
      },
      (cause: unknown) => this.failed(cause),
    );
  }

  private written({ batch, seq }: Sealed): void {
    this.writing = undefined;
    this.sealedBytes -= batch.bytes;
    this.overlayList = undefined;
    this.writtenSeq = seq;
    if (this.failure !== undefined) return;
    // Snapshots are pinned before the next write starts, so each holds exactly the
    // batches up to its own.
    while (this.waiters.length > 0 && this.waiters[0]!.seq <= this.writtenSeq) {
      const waiter = this.waiters.shift()!;
      if (!waiter.pin) {
        waiter.resolve(undefined);
        continue;
      }
      try {
        waiter.resolve(this.backend.snapshot());
      } catch (error) {
        waiter.reject(error);
      }
    }
    for (const w of this.writeWaiters.splice(0)) w.resolve();
    if (this.sealed.length > 0) {
      this.pump();
    } else if (this.due && !this.applying) {
      this.seal();
      this.pump();
    }
  }

  private failed(cause: unknown): void {
    this.writing = undefined;
    this.abort(this.onFailure(cause));
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The longest delay `setTimeout` honours (a longer one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;

function batchLimits(options: BatchOptions): Limits {
  const intervalMs = checked(
    "batchIntervalMs",
    options.batchIntervalMs,
    DEFAULT_BATCH_INTERVAL_MS,
    0,
  );
  if (intervalMs > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      `raftkv: batchIntervalMs must be at most ${MAX_TIMER_MS}, got ${intervalMs}`,
    );
  }
  return {
    intervalMs,
    ops: checked("batchLimitOps", options.batchLimitOps, DEFAULT_BATCH_LIMIT_OPS, 1),
    bytes: checked("batchLimitBytes", options.batchLimitBytes, DEFAULT_BATCH_LIMIT_BYTES, 1),
    maxPending: checked("maxPendingBytes", options.maxPendingBytes, DEFAULT_MAX_PENDING_BYTES, 1),
  };
}

function checked(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw new InvalidOptionError(
      `raftkv: ${name} must be a number >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}
