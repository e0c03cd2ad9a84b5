import { type CallOptions, type LeaderChange, LeaderNotFoundError } from "@raftkv/raft-core";
import { ProgressWaiters } from "./progress-waiters.js";

/**
 * How a read is made safe:
 * - `linearizable`: reflects every write acknowledged before the read started, on any
 *   member (a follower asks the leader). Costs one heartbeat round to a quorum (Raft's
 *   ReadIndex, etcd's default), shared by every read waiting at that moment.
 * - `serializable`: served from this member's state as it is, without talking to the
 *   others. Fast, may be stale; never goes backwards on one member.
 * - `session`: at least as new as a position the client has already seen (its last
 *   revision), so one client never reads older data than it wrote or read, even when it
 *   moves between members. Waits, bounded, for this member to catch up.
 */
export type ReadConsistency = "linearizable" | "serializable" | "session";

/** What the barrier needs from Raft; `RaftNode` from @raftkv/raft-core provides it. */
export interface ReadIndexSource {
  /** Resolves once a linearizable read may be served locally (see RaftNode.readIndex). */
  readIndex(options?: CallOptions): Promise<number>;
  /** The leader this member knows of, 0 if none. */
  readonly leader: number;
  onLeaderChange(listener: (e: LeaderChange) => void): () => void;
}

export interface ReadBarrierOptions {
  raft: ReadIndexSource;
  /** The state machine's current position for session reads (e.g. its revision). */
  position: () => number;
}

export interface ReadOptions {
  /** Give up after this many milliseconds. Required: a read barrier never waits forever. */
  timeoutMs: number;
  /** An optional AbortSignal to give up earlier; the read then rejects with ReadAbortedError. */
  signal?: AbortSignal | undefined;
  /** For `session` reads: the position the client has seen (0: any). */
  minPosition?: number | undefined;
}

/** Raft errors after which a linearizable read may be retried once a leader is known. */
const RETRYABLE = new Set(["LEADER_NOT_FOUND", "READ_INDEX_DROPPED"]);

/**
 * One entry point for every read consistency: `await barrier.wait(kind, options)`, then
 * read the local state machine. The state machine's owner reports its progress with
 * `advanced(position)` after each apply.
 */
export class ReadBarrier {
  private readonly waiters: ProgressWaiters;

  constructor(private readonly options: ReadBarrierOptions) {
    this.waiters = new ProgressWaiters(options.position());
  }

  /** Reports that the local state machine reached `position`. Cheap; call after every apply. */
  advanced(position: number = this.options.position()): void {
    this.waiters.advance(position);
  }

  /**
   * Resolves when a read of the given consistency may be served from local state.
   * Rejects with the raft-core error for linearizable reads that cannot be confirmed in
   * time (TimeoutError, LeaderNotFoundError when no leader appeared), and with
   * SessionReadTimeoutError when this member does not catch up in time.
   */
  wait(kind: ReadConsistency, options: ReadOptions): Promise<void> {
    switch (kind) {
      case "serializable":
        return Promise.resolve();
      case "session":
        this.waiters.advance(this.options.position());
        return this.waiters.wait(options.minPosition ?? 0, options.timeoutMs, options.signal);
      case "linearizable":
        return this.linearizable(options);
    }
  }

  private async linearizable(options: ReadOptions): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      try {
        await this.options.raft.readIndex({
          timeoutMs: Math.max(1, deadline - Date.now()),
          signal: options.signal,
        });
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code !== "string" || !RETRYABLE.has(code) || Date.now() >= deadline) throw error;
        await this.leaderKnown(deadline, options.signal);
        if (this.options.raft.leader === 0) {
          throw new LeaderNotFoundError("no leader appeared within the read's deadline", {
            cause: error,
          });
        }
      }
    }
  }

  /** Resolves when a leader is known, at `deadline`, or when `signal` fires. */
  private leaderKnown(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.options.raft.leader !== 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stop();
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const stop = this.options.raft.onLeaderChange((e) => {
        if (e.leader !== 0) done();
      });
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Rejects waiting session reads; linearizable ones end with Raft. */
  close(): void {
    this.waiters.close();
  }
}
