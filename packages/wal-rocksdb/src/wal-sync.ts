import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { DurabilityUnavailableError } from "./errors.js";
import type { NativeDb, NativeWalFile } from "./native.js";

/**
 * Makes completed RocksDB writes durable by syncing the write-ahead log they were
 * appended to: `rocksdb-native` has no `WriteOptions.sync`, so we do what RocksDB's own
 * `sync = true` does (fdatasync the WAL file; fsync the directory when a new WAL file
 * appears). See docs/adr/003-rocksdb-binding.md.
 *
 * Invariant: when `sync()` resolves, every write that had completed before it was called
 * is on stable storage. Holds because a completed write is in the WAL that was current
 * when it completed or an older one, and every WAL from the last synced one up to the
 * current one is synced here.
 */
export class WalSyncer {
  private walNumber = -1;
  private syncing: Promise<void> = Promise.resolve();
  private wal: FileHandle | undefined;

  /**
   * @param onRotate called after a rotation was made durable, with the previous and new
   *   WAL numbers and how many WALs in between were synced.
   */
  constructor(
    private readonly db: NativeDb,
    private readonly dir: string,
    private readonly onRotate: (from: number, to: number, between: number) => void = () => {},
  ) {}

  /**
   * Checks that a write reaches the WAL file before it returns (else nothing we sync
   * would cover it), then syncs. Throws DurabilityUnavailableError if it does not.
   */
  async start(probe: () => Promise<void>): Promise<void> {
    const before = await this.db.currentWalFile();
    const sizeBefore = await walSize(this.dir, before.path);
    await probe();
    const after = await this.db.currentWalFile();
    const sizeAfter = await walSize(this.dir, after.path);
    if (after.number === before.number && sizeAfter <= sizeBefore) {
      throw new DurabilityUnavailableError(
        `a completed write did not reach the WAL file ${after.path} (size stayed ${sizeAfter} bytes); ` +
          "this RocksDB binding buffers its WAL, so synced writes cannot be guaranteed",
      );
    }
    await this.switchTo(after.number, after.path, -1);
    await this.sync();
  }

  /**
   * Asks RocksDB which WAL is current. Call it right after a write lands and before the
   * next one is dispatched: the call takes the DB mutex on the JavaScript thread, and
   * would wait there for a write in progress.
   */
  currentWal(): Promise<NativeWalFile> {
    const current = this.db.currentWalFile();
    current.catch(() => {});
    return current;
  }

  /**
   * Syncs every WAL written before `current` was asked for (default: now); see the class
   * invariant.
   */
  sync(current: Promise<NativeWalFile> = this.currentWal()): Promise<void> {
    // A sync may be asked for while one runs; one at a time keeps the WAL switch-over
    // below consistent.
    const run = this.syncing.then(() => this.syncNow(current));
    this.syncing = run.catch(() => {});
    return run;
  }

  private async syncNow(current: Promise<NativeWalFile>): Promise<void> {
    const wal = this.wal;
    if (wal === undefined) throw new Error("WalSyncer.sync before start");
    // The datasync and the rotation check run concurrently: only a rotation costs more.
    const [, latest] = await Promise.all([wal.datasync(), current]);
    if (latest.number !== this.walNumber) {
      await this.switchTo(latest.number, latest.path, this.walNumber);
    }
  }

  /** Syncs the WALs numbered after `previous` up to `number`, then the directory. */
  private async switchTo(number: number, path: string, previous: number): Promise<void> {
    let between = 0;
    if (previous >= 0) {
      // WALs between the old and the new current one were written and rotated away while
      // we were not looking; sync them too (a deleted one was flushed to SST by RocksDB).
      for (const name of await readdir(this.dir)) {
        const m = /^(\d+)\.log$/.exec(name);
        const n = m?.[1] === undefined ? -1 : Number(m[1]);
        if (n > previous && n < number) {
          await syncFile(join(this.dir, name));
          between++;
        }
      }
    }
    const next = await open(join(this.dir, path), "r");
    await next.datasync();
    await syncFile(this.dir);
    const old = this.wal;
    this.wal = next;
    this.walNumber = number;
    await old?.close();
    if (previous >= 0) this.onRotate(previous, number, between);
  }

  async close(): Promise<void> {
    await this.wal?.close();
    this.wal = undefined;
  }
}

async function walSize(dir: string, path: string): Promise<number> {
  return (await stat(join(dir, path))).size;
}

/** fsyncs a file or directory by path. */
export async function syncPath(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `syncPath`, for a file that may be gone. */
async function syncFile(path: string): Promise<void> {
  try {
    await syncPath(path);
  } catch (err) {
    // A rotated WAL may be deleted between readdir and open once RocksDB flushed it.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
