/** A member of a cluster under test, as a driver names it. */
export interface MemberInfo {
  /** The member's name (etcd --name), unique in the cluster. */
  readonly name: string;
  /** Its client endpoint, `host:port`. */
  readonly endpoint: string;
}

/**
 * Starts, stops and injects process faults into a cluster of servers. A driver module
 * (`--driver ./my-driver.js`) exports `createDriver(options)` returning one. Every
 * method that takes a member takes its name from `members()`.
 *
 * Methods reject with `DriverError` when the member is unknown or the operation is
 * impossible in its state (pausing a killed member, for instance), and
 * `ClusterNotReadyError` when a (re)started member does not come up in time.
 */
export interface ClusterDriver {
  /** Starts every member and resolves when all serve and agree on a leader. */
  start(): Promise<void>;
  /** Stops every member (resuming paused ones first) and releases what start() made. */
  stop(): Promise<void>;
  /** SIGKILL: the member dies without flushing anything it had not synced. */
  kill(member: string): Promise<void>;
  /** SIGSTOP: the member freezes; its connections stay open but nothing is answered. */
  pause(member: string): Promise<void>;
  /** SIGCONT for a paused member. */
  resume(member: string): Promise<void>;
  /**
   * Brings a member back: a killed one is started again on its data; a running one is
   * stopped gracefully (SIGTERM) first; a paused one is resumed first. Resolves when the
   * member serves again.
   */
  restart(member: string): Promise<void>;
  /** Client endpoints (`host:port`) of every member, in `members()` order. */
  endpoints(): string[];
  members(): MemberInfo[];
}

/** Options every driver factory accepts; drivers may take more. */
export interface DriverOptions {
  /** Cluster size. Default 3. */
  readonly members?: number;
  /**
   * Directory for data and logs; default a new temporary directory, deleted by stop()
   * unless `keepData`.
   */
  readonly baseDir?: string;
  /** Keep data and logs after stop() (for post-mortems). Default false. */
  readonly keepData?: boolean;
  /**
   * The server command: executable and leading arguments, before the member flags.
   * Defaults are the driver's (`/usr/bin/etcd` for etcd).
   */
  readonly command?: readonly string[];
  /** Raft heartbeat interval (--heartbeat-interval). Default 100 ms. */
  readonly heartbeatIntervalMs?: number;
  /** Raft election timeout (--election-timeout). Default 1 000 ms. */
  readonly electionTimeoutMs?: number;
  /** How long start() and restart() wait for members to serve. Default 60 000 ms. */
  readonly readyTimeoutMs?: number;
}

/** What a driver module exports. */
export type CreateDriver = (options: DriverOptions) => ClusterDriver | Promise<ClusterDriver>;
