import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Entry, HardState, SnapshotMetadata } from "@raftkv/raft-core";
import { CorruptionError, InvalidArgumentError, StorageFailedError } from "./errors.js";
import type { WalLogger } from "./logger.js";
import { emptyConfState } from "./meta-codec.js";
import type { WalMetrics } from "./metrics.js";
import {
  encodeSaveRecord,
  encodeSnapshotRecord,
  RECORD_HEADER_BYTES,
  readRecord,
  type WalRecord,
} from "./wal-record.js";
import { syncPath } from "./wal-sync.js";

/** `RKVRAFT1` then the segment's sequence number (u64 little-endian). */
const MAGIC = Buffer.from("RKVRAFT1", "latin1");
export const SEGMENT_HEADER_BYTES = 16;
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_NAME = /^(\d{16})\.wal$/;

export interface RaftWalOptions {
  /**
   * Size at which a segment is closed: a write that would take it past this starts the
   * next segment. Default 64 MiB; at least 4 KiB.
   */
  segmentBytes?: number | undefined;
}

/** The log as the segments describe it, after replay. */
export interface WalContents {
  hardState: HardState;
  snapshot: SnapshotMetadata;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[];
}

/** What one append changes, besides its bytes: what a new segment must carry over. */
export interface AppendInfo {
  /** Highest entry index the record holds (0 when none). */
  maxIndex: number;
  hardState?: HardState | undefined;
  snapshot?: SnapshotMetadata | undefined;
  /** The record replaces the whole log (a snapshot from the leader). */
  reset?: boolean | undefined;
}

interface Segment {
  seq: number;
  path: string;
  /** Highest entry index written into it: once the snapshot covers it, it can go. */
  maxIndex: number;
}

interface QueueInfo {
  maxIndex: number;
  reset: boolean;
  hardState?: HardState | undefined;
  snapshot?: SnapshotMetadata | undefined;
}

interface Group {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A group whose callers all went away must not become an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const segmentName = (seq: number): string => `${String(seq).padStart(16, "0")}.wal`;

/**
 * The Raft log's write-ahead log: an append-only sequence of segment files in one
 * directory, like etcd's WAL. Every append is durable when it resolves: segments are
 * written through a descriptor opened with O_DSYNC, so one positioned write is both the
 * write and the sync (a single thread-pool round trip). Appends that arrive while a write
 * is in flight are merged into the next write (group commit), in call order.
 *
 * Segments are not preallocated: Node has no `fallocate`, and filling 64 MiB with zeros
 * in the background stalled the synced writes of the whole disk for long enough that
 * leaders lost their quorum (see ADR 016). A write that grows the file costs a metadata
 * commit, as a write into etcd's fallocated (unwritten) extents does.
 *
 * A new segment starts with the hard state and snapshot point as of its first byte, so
 * older segments can be deleted once the snapshot covers every entry they hold.
 */
export class RaftWal {
  private queue: Buffer[] = [];
  private queueBytes = 0;
  private queueInfo: QueueInfo = { maxIndex: 0, reset: false };
  private group: Group | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private writing = false;
  private failure: StorageFailedError | undefined;
  private closed = false;
  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly segments: Segment[],
    private fh: FileHandle,
    private pos: number,
    private durableHardState: HardState,
    private durableSnapshot: SnapshotMetadata,
    /** Segments older than this one were replaced by a snapshot from the leader. */
    private resetSeq: number,
    private readonly logger: WalLogger,
    private readonly metrics: WalMetrics,
    private readonly onFail: (error: StorageFailedError) => void,
  ) {}

  /**
   * Opens (creating if needed) the WAL in `dir` and replays it. A record that fails its
   * checksum at the end of the last segment (a torn write) is cut with a warning; one
   * followed by valid records, a missing segment or missing entries reject with
   * CorruptionError; I/O errors with StorageFailedError.
   */
  static async open(
    dir: string,
    options: RaftWalOptions,
    logger: WalLogger,
    metrics: WalMetrics,
    onFail: (error: StorageFailedError) => void,
  ): Promise<{ wal: RaftWal; contents: WalContents }> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 4096) {
      throw new InvalidArgumentError(`segmentBytes ${segmentBytes} must be an integer ≥ 4096`);
    }
    try {
      return await RaftWal.replay(dir, segmentBytes, logger, metrics, onFail);
    } catch (err) {
      if (err instanceof CorruptionError || err instanceof InvalidArgumentError) throw err;
      throw new StorageFailedError(
        `cannot open the raft log in ${dir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  private static async replay(
    dir: string,
    segmentBytes: number,
    logger: WalLogger,
    metrics: WalMetrics,
    onFail: (error: StorageFailedError) => void,
  ): Promise<{ wal: RaftWal; contents: WalContents }> {
    await mkdir(dir, { recursive: true });
    const segments: Segment[] = [];
    for (const name of await readdir(dir)) {
      // A segment being created when the process stopped.
      if (name.endsWith(".wal.tmp")) await rm(join(dir, name), { force: true });
      const m = SEGMENT_NAME.exec(name);
      if (m) segments.push({ seq: Number(m[1]), path: join(dir, name), maxIndex: 0 });
    }
    segments.sort((a, b) => a.seq - b.seq);
    if (segments.length === 0) {
      const tmp = await createSegment(dir, 1);
      const path = join(dir, segmentName(1));
      await rename(tmp, path);
      await syncPath(dir);
      segments.push({ seq: 1, path, maxIndex: 0 });
    }
    for (let i = 1; i < segments.length; i++) {
      const seq = (segments[i - 1] as Segment).seq + 1;
      if ((segments[i] as Segment).seq !== seq) {
        throw new CorruptionError(`raft log segment ${segmentName(seq)} is missing`, undefined);
      }
    }

    const state = new ReplayState();
    let end = SEGMENT_HEADER_BYTES;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as Segment;
      const last = i === segments.length - 1;
      const buf = await readFile(segment.path);
      const name = segmentName(segment.seq);
      if (
        buf.length < SEGMENT_HEADER_BYTES ||
        !buf.subarray(0, 8).equals(MAGIC) ||
        readSeq(buf) !== segment.seq
      ) {
        throw new CorruptionError(`raft log segment ${name} has a bad header`, undefined);
      }
      let offset = SEGMENT_HEADER_BYTES;
      for (;;) {
        const r = readRecord(buf, offset);
        if (r.status === "end") break;
        if (r.status === "bad") {
          const next = state.lastIndex() + 1;
          if (!last || validRecordAfter(buf, offset + RECORD_HEADER_BYTES)) {
            throw new CorruptionError(
              `raft log segment ${name} at byte ${offset}: ${r.why}, and records follow it ` +
                `(the log reads intact up to index ${next - 1})`,
              next,
            );
          }
          logger.warn(
            { segment: name, offset, reason: r.why, lastIndex: next - 1 },
            "dropping a torn write at the tail of the raft log",
          );
          await cutTail(segment.path, offset);
          break;
        }
        state.apply(r.record, segment);
        offset = r.next;
      }
      end = offset;
    }
    const contents = state.finish();

    const current = segments[segments.length - 1] as Segment;
    const fh = await open(current.path, constants.O_WRONLY | constants.O_DSYNC);
    if (end === SEGMENT_HEADER_BYTES) {
      // A segment with no records yet (new, or the process stopped between switching to
      // it and writing its first records) must start with the state it carries over.
      try {
        end += await writeCarry(fh, contents.hardState, contents.snapshot);
      } catch (err) {
        await fh.close().catch(() => {});
        throw err;
      }
    }
    const wal = new RaftWal(
      dir,
      segmentBytes,
      segments,
      fh,
      end,
      { ...contents.hardState },
      contents.snapshot,
      state.resetSeq,
      logger,
      metrics,
      onFail,
    );
    return { wal, contents };
  }

  /** Throws the failure that stopped the WAL, if one did. */
  checkWritable(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Queues `record` (a framed record from wal-record.ts) and resolves once it is on
   * stable storage, with everything appended before it. Rejects with StorageFailedError if
   * the write fails; from then on every append does.
   */
  append(record: Buffer, info: AppendInfo): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.queue.push(record);
    this.queueBytes += record.length;
    const q = this.queueInfo;
    if (info.maxIndex > q.maxIndex) q.maxIndex = info.maxIndex;
    if (info.hardState !== undefined) q.hardState = info.hardState;
    if (info.snapshot !== undefined) q.snapshot = info.snapshot;
    if (info.reset === true) q.reset = true;
    this.group ??= newGroup();
    const { promise } = this.group;
    if (!this.writing) this.inFlight = this.run();
    return promise;
  }

  /** Resolves once everything appended so far is durable (or its write failed). */
  idle(): Promise<void> {
    return this.group?.promise ?? this.inFlight;
  }

  private async run(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const buffers = this.queue;
        const bytes = this.queueBytes;
        const info = this.queueInfo;
        const group = this.group as Group;
        this.queue = [];
        this.queueBytes = 0;
        this.queueInfo = { maxIndex: 0, reset: false };
        this.group = undefined;
        try {
          await this.writeGroup(buffers, bytes, info);
        } catch (err) {
          const failure = this.fail(err);
          group.reject(failure);
          // Appends queued during the failed write: TypeScript cannot see that they happen.
          (this.group as Group | undefined)?.reject(failure);
          this.group = undefined;
          this.queue = [];
          return;
        }
        // Before resolving, so that a compaction's caller sees the space freed.
        if (info.snapshot !== undefined) await this.dropObsolete();
        group.resolve();
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeGroup(buffers: Buffer[], bytes: number, info: QueueInfo): Promise<void> {
    const data = buffers.length === 1 ? (buffers[0] as Buffer) : Buffer.concat(buffers, bytes);
    if (this.pos + data.length > this.segmentBytes && this.pos > SEGMENT_HEADER_BYTES) {
      await this.rotate();
    }
    const segment = this.segments[this.segments.length - 1] as Segment;
    const started = performance.now();
    await writeAll(this.fh, data, this.pos);
    const seconds = (performance.now() - started) / 1000;
    this.pos += data.length;
    if (info.maxIndex > segment.maxIndex) segment.maxIndex = info.maxIndex;
    if (info.hardState !== undefined) this.durableHardState = info.hardState;
    if (info.snapshot !== undefined) this.durableSnapshot = info.snapshot;
    if (info.reset) this.resetSeq = segment.seq;
    this.metrics.walSynced(seconds);
    this.metrics.groupWritten(buffers.length);
  }

  /** Switches to a new segment, carrying the durable state over. */
  private async rotate(): Promise<void> {
    const seq = (this.segments[this.segments.length - 1] as Segment).seq + 1;
    const tmp = await createSegment(this.dir, seq);
    const path = join(this.dir, segmentName(seq));
    await rename(tmp, path);
    await syncPath(this.dir);
    const fh = await open(path, constants.O_WRONLY | constants.O_DSYNC);
    let carried: number;
    try {
      carried = await writeCarry(fh, this.durableHardState, this.durableSnapshot);
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
    const old = this.fh;
    this.fh = fh;
    this.pos = SEGMENT_HEADER_BYTES + carried;
    this.segments.push({ seq, path, maxIndex: 0 });
    await old.close();
    this.logger.info({ segment: segmentName(seq) }, "raft log moved to a new segment");
    await this.dropObsolete();
  }

  /** Deletes the oldest segments whose entries the snapshot covers (never the current one). */
  private async dropObsolete(): Promise<void> {
    let dropped = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      if (oldest.seq >= this.resetSeq && oldest.maxIndex > this.durableSnapshot.index) break;
      try {
        await rm(oldest.path, { force: true });
      } catch (err) {
        this.logger.warn(
          { segment: oldest.path, err: (err as Error).message },
          "cannot delete an obsolete raft log segment; will retry",
        );
        break;
      }
      this.segments.shift();
      dropped++;
    }
    if (dropped > 0) await syncPath(this.dir).catch(() => {});
  }

  private fail(err: unknown): StorageFailedError {
    if (this.failure !== undefined) return this.failure;
    const failure = new StorageFailedError(`raft log write failed: ${(err as Error).message}`, {
      cause: err,
    });
    this.stopWith(failure);
    this.onFail(failure);
    return failure;
  }

  /**
   * Refuses every later append with `error` (after a failure here or in the other store
   * of the data dir: once a write failed, the state of the disk is unknown).
   */
  stopWith(error: StorageFailedError): void {
    this.failure ??= error;
  }

  /** Waits for queued writes, then closes the current segment. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle().catch(() => {});
    await this.inFlight.catch(() => {});
    await this.fh.close();
  }
}

/** Replays records into the log they describe. */
class ReplayState {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  snapshot: SnapshotMetadata = { index: 0, term: 0, confState: emptyConfState() };
  /** `log[i]` has index `base + i`. */
  private log: Entry[] = [];
  private base = 1;
  /** The first index found missing when entries jumped ahead of the log. */
  private missingFrom = 0;
  /** The segment holding the last snapshot from the leader, if any. */
  resetSeq = 0;

  lastIndex(): number {
    return this.base + this.log.length - 1;
  }

  apply(record: WalRecord, segment: Segment): void {
    if (record.kind === "snapshot") {
      const { snapshot } = record;
      if (record.reset) {
        this.log = [];
        this.base = snapshot.index + 1;
        this.snapshot = snapshot;
        this.resetSeq = segment.seq;
      } else {
        this.trim(snapshot.index);
        if (snapshot.index >= this.snapshot.index) this.snapshot = snapshot;
      }
      return;
    }
    const first = record.entries[0];
    if (first !== undefined) {
      if (first.index < this.base || first.index > this.lastIndex() + 1) {
        // Entries before these were in segments deleted once a snapshot covered them; the
        // snapshot record that allowed it comes later (checked in finish()).
        if (first.index > this.lastIndex() + 1) this.missingFrom = this.lastIndex() + 1;
        this.log = [];
        this.base = first.index;
      } else {
        this.log.length = first.index - this.base;
      }
      for (const e of record.entries) this.log.push(e);
      const last = record.entries[record.entries.length - 1] as Entry;
      if (last.index > segment.maxIndex) segment.maxIndex = last.index;
    }
    if (record.hardState !== undefined) this.hardState = record.hardState;
  }

  private trim(index: number): void {
    if (index < this.base) return;
    const drop = index + 1 - this.base;
    this.log = drop >= this.log.length ? [] : this.log.slice(drop);
    this.base = index + 1;
  }

  finish(): WalContents {
    this.trim(this.snapshot.index);
    if (this.log.length > 0 && this.base !== this.snapshot.index + 1) {
      const from = Math.max(this.missingFrom, this.snapshot.index + 1);
      throw new CorruptionError(`raft log entries ${from} to ${this.base - 1} are missing`, from);
    }
    if (this.log.length === 0) this.base = this.snapshot.index + 1;
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.log };
  }
}

/**
 * Writes the hard state and snapshot point at the start of an empty segment, so that it
 * holds them once older segments are deleted. Returns the bytes written.
 */
async function writeCarry(
  fh: FileHandle,
  hardState: HardState,
  snapshot: SnapshotMetadata,
): Promise<number> {
  const carry = Buffer.concat([
    encodeSnapshotRecord(snapshot, false),
    encodeSaveRecord(hardState, []),
  ]);
  await writeAll(fh, carry, SEGMENT_HEADER_BYTES);
  return carry.length;
}

function readSeq(buf: Buffer): number {
  return buf.readUInt32LE(12) * 2 ** 32 + buf.readUInt32LE(8);
}

/** True if a valid record starts at any 8-byte boundary at or after `from`. */
function validRecordAfter(buf: Buffer, from: number): boolean {
  for (let o = (from + 7) & ~7; o + RECORD_HEADER_BYTES <= buf.length; o += 8) {
    if (buf.readUInt32LE(o) === 0) continue;
    if (readRecord(buf, o).status === "record") return true;
  }
  return false;
}

/** Cuts a torn write off the end of a segment (from `offset` on) and syncs the file. */
async function cutTail(path: string, offset: number): Promise<void> {
  const fh = await open(path, "r+");
  try {
    await fh.truncate(offset);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Writes segment `seq`'s header to `<name>.tmp`, synced. Returns its path. */
async function createSegment(dir: string, seq: number): Promise<string> {
  const path = join(dir, `${segmentName(seq)}.tmp`);
  const fh = await open(path, "w");
  try {
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(seq % 2 ** 32, 8);
    header.writeUInt32LE(Math.floor(seq / 2 ** 32), 12);
    await writeAll(fh, header, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return path;
}

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}
