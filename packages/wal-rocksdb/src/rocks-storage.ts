import { mkdir, readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Registry } from "prom-client";
import { isU64 } from "./binary.js";
import {
  CorruptionError,
  DataDirLockedError,
  DataDirMismatchError,
  InvalidArgumentError,
  StorageFailedError,
} from "./errors.js";
import { type GroupCommitOptions, GroupCommitter, type GroupHooks } from "./group-commit.js";
import { MetaKey } from "./keys.js";
import { silentWalLogger, type WalLogger } from "./logger.js";
import { decodeIdentity, decodeIndex, encodeIdentity, encodeIndex } from "./meta-codec.js";
import { createWalMetrics, noWalMetrics } from "./metrics.js";
import { createNativeDb, type NativeDb, NativeWalRecovery } from "./native.js";
import { RocksMvccBackend } from "./rocks-mvcc-backend.js";
import { WalLogStore } from "./wal-log-store.js";
import { syncPath, WalSyncer } from "./wal-sync.js";

/**
 * The on-disk format this version reads and writes. 2: the Raft log is in segment files
 * under `raft/` (1 kept it in RocksDB).
 */
export const FORMAT_VERSION = 2;

/** Where the Raft log's segments live inside a data dir. */
export const RAFT_LOG_DIR = "raft";

export interface OpenRocksStorageOptions {
  /** The member's data dir; created if missing. Must not hold anything but this store. */
  dir: string;
  /**
   * The cluster this member belongs to (e.g. the initial cluster token). Recorded when
   * the dir is created; a dir created for another cluster is refused.
   */
  clusterId: string;
  /** This member's id (positive); a dir created for another member is refused. */
  memberId: number;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: WalLogger | undefined;
  /** Group commit limits of the MVCC backend's RocksDB writes; see GroupCommitOptions. */
  groupCommit?: GroupCommitOptions | undefined;
  /**
   * Size at which the Raft log moves to a new segment file. Default 64 MiB; at
   * least 4 KiB.
   */
  walSegmentBytes?: number | undefined;
  /** RocksDB memtable size in bytes before a flush to disk. Default 64 MiB. */
  writeBufferSize?: number | undefined;
  /**
   * prom-client registry for the Raft log's metrics (`wal_fsync_duration_seconds`,
   * `wal_group_commit_writes`, `wal_storage_failures_total`, label `member`). Default:
   * none kept.
   */
  registry?: Registry | undefined;
}

/**
 * One member's durable storage: the Raft log store (segment files under `raft/`) and
 * mvcc-kv's backend (RocksDB), in one data dir.
 */
export interface RocksStorage extends AsyncDisposable {
  readonly dir: string;
  /** The Raft `LogStore`; call `load()` before anything else on it. */
  readonly logStore: WalLogStore;
  /** The MVCC backend (mvcc-kv's `MvccBackend`, implemented structurally). */
  readonly backend: RocksMvccBackend;
  /** Closes both and the data dir, after queued writes land. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) a member's data dir. Rejects with:
 * - DataDirLockedError if another process or store has it open;
 * - DataDirMismatchError if it belongs to another cluster or member, was written in
 *   another format version, or is a non-empty directory that is not a raftkv data dir;
 * - DurabilityUnavailableError if the RocksDB binding cannot make writes durable;
 * - StorageFailedError if RocksDB cannot open or write it (the cause says why);
 * - InvalidArgumentError for malformed options.
 */
export async function openRocksStorage(options: OpenRocksStorageOptions): Promise<RocksStorage> {
  const { clusterId, memberId } = options;
  if (typeof options.dir !== "string" || options.dir === "") {
    throw new InvalidArgumentError("dir must be a non-empty path");
  }
  if (typeof clusterId !== "string" || clusterId === "" || clusterId.length > 1024) {
    throw new InvalidArgumentError("clusterId must be a non-empty string of at most 1024 chars");
  }
  if (!isU64(memberId) || memberId === 0) {
    throw new InvalidArgumentError(`memberId ${memberId} must be a positive integer`);
  }
  const dir = resolve(options.dir);
  const logger = options.logger ?? silentWalLogger;

  let existing: string[];
  try {
    await mkdir(dir, { recursive: true });
    existing = await readdir(dir);
  } catch (err) {
    throw new StorageFailedError(`cannot use ${dir} as a data dir: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (existing.length > 0 && !existing.includes("CURRENT")) {
    throw new DataDirMismatchError(dir, "it is not empty and holds no RocksDB database");
  }

  const db = createNativeDb(dir, {
    createIfMissing: true,
    walRecoveryMode: NativeWalRecovery.PointInTime,
    writeBufferSize: options.writeBufferSize ?? 64 * 1024 * 1024,
  });
  try {
    await db.ready();
  } catch (err) {
    const message = (err as Error).message ?? "";
    // RocksDB's messages when its LOCK file is held by this process or another one.
    if (/lock hold by current process|While lock file/.test(message)) {
      throw new DataDirLockedError(dir, { cause: err });
    }
    throw new StorageFailedError(`cannot open data dir ${dir}: ${message}`, { cause: err });
  }

  try {
    return await initialize(db, dir, clusterId, memberId, logger, options);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}

async function initialize(
  db: NativeDb,
  dir: string,
  clusterId: string,
  memberId: number,
  logger: WalLogger,
  options: OpenRocksStorageOptions,
): Promise<RocksStorage> {
  const identityRecord = await db.get(MetaKey.identity);
  let created = false;
  if (identityRecord === null) {
    if (!(await isEmpty(db))) {
      throw new DataDirMismatchError(dir, "it holds data but no raftkv identity record");
    }
    created = true;
  } else {
    checkIdentity(dir, identityRecord, clusterId, memberId);
  }

  const wal = new WalSyncer(db, dir, (from, to, between) => {
    logger.info({ dir, from, to, between }, "write-ahead log rotated; new file synced");
  });
  await wal.start(async () => {
    const probe = db.write({ autoDestroy: true });
    probe.tryPut(MetaKey.walProbe, encodeIndex(Date.now()));
    await probe.flush();
  });

  const mvccHooks: GroupHooks = {};
  const metrics =
    options.registry === undefined ? noWalMetrics : createWalMetrics(options.registry, memberId);
  const mvccCommitter = new GroupCommitter(db, wal, options.groupCommit, mvccHooks);
  const raftDir = join(dir, RAFT_LOG_DIR);
  if (created) {
    // The raft log's directory must exist, durably, before the identity that says this
    // data dir is in use.
    await mkdir(raftDir, { recursive: true });
    await syncPath(dir);
    const identity = encodeIdentity({ formatVersion: FORMAT_VERSION, clusterId, memberId });
    await mvccCommitter.submit({
      ops: [{ kind: "put", key: MetaKey.identity, value: identity }],
      bytes: identity.length,
      sync: true,
    });
  } else if (!(await exists(raftDir))) {
    throw new CorruptionError(
      `the raft log directory ${raftDir} is missing from a data dir that was in use`,
      undefined,
    );
  }

  const appliedRecord = await db.get(MetaKey.appliedIndex);
  const appliedIndex =
    appliedRecord === null ? 0 : decodeIndex(appliedRecord, "mvcc applied index");

  let open = 2;
  let closing: Promise<void> | undefined;
  const closeAll = (): Promise<void> => {
    closing ??= (async () => {
      backend.releaseAll();
      await mvccCommitter.close();
      await wal.close();
      await db.close();
      logger.info({ dir }, "data dir closed");
    })();
    return closing;
  };
  const closeOne = async (): Promise<void> => {
    open--;
    if (open === 0) await closeAll();
  };

  const logStore = new WalLogStore(
    raftDir,
    { segmentBytes: options.walSegmentBytes },
    logger,
    metrics,
    closeOne,
    (error) => failed(error),
  );
  const backend = new RocksMvccBackend(db, mvccCommitter, appliedIndex, closeOne);
  mvccHooks.beforeWrite = (group) => backend.beforeWrite(group);
  mvccHooks.afterWrite = (group) => backend.afterWrite(group);
  let stopped = false;
  const failed = (error: StorageFailedError): void => {
    if (stopped) return;
    stopped = true;
    metrics.failed();
    logger.error(
      { dir, err: error.cause, code: error.code },
      "data dir write failed; writes stopped",
    );
    mvccCommitter.stopWith(error);
    logStore.stopWith(error);
  };
  mvccHooks.failed = failed;

  logger.info({ dir, clusterId, memberId, created, appliedIndex }, "data dir opened");
  const close = async (): Promise<void> => {
    await logStore.close();
    await backend.close();
    await closeAll();
  };
  return { dir, logStore, backend, close, [Symbol.asyncDispose]: close };
}

function checkIdentity(dir: string, record: Uint8Array, clusterId: string, memberId: number): void {
  let identity: ReturnType<typeof decodeIdentity>;
  try {
    identity = decodeIdentity(record);
  } catch (err) {
    throw new DataDirMismatchError(
      dir,
      `its identity record is unreadable (${(err as Error).message}); it was written by an incompatible version or is corrupt`,
      { cause: err },
    );
  }
  if (identity.formatVersion !== FORMAT_VERSION) {
    throw new DataDirMismatchError(
      dir,
      `it is in format version ${identity.formatVersion}; this version reads ${FORMAT_VERSION}`,
    );
  }
  if (identity.clusterId !== clusterId) {
    throw new DataDirMismatchError(
      dir,
      `it belongs to cluster "${identity.clusterId}", not "${clusterId}"`,
    );
  }
  if (identity.memberId !== memberId) {
    throw new DataDirMismatchError(
      dir,
      `it belongs to member ${identity.memberId}, not ${memberId}`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

async function isEmpty(db: NativeDb): Promise<boolean> {
  const it = db.iterator({ limit: 2, capacity: 2 });
  try {
    for await (const { key } of it) {
      // A probe left by an open that crashed before writing the identity is not data.
      if (!Buffer.from(key).equals(MetaKey.walProbe)) return false;
    }
    return true;
  } finally {
    it.destroy();
  }
}
