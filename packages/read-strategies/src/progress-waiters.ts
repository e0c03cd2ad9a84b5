import { ReadAbortedError, ReadBarrierClosedError, SessionReadTimeoutError } from "./errors.js";

interface Waiter {
  target: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Callers waiting for a monotonic position (an applied revision or index) to reach a
 * target. The owner reports each advance; waiters are kept sorted by target, so an
 * advance settles exactly the waiters it satisfies, in order, without polling.
 */
export class ProgressWaiters {
  private waiters: Waiter[] = [];
  private position: number;

  constructor(initial: number) {
    this.position = initial;
  }

  /** The last position reported. */
  get current(): number {
    return this.position;
  }

  /** Reports that the position is now `position` (smaller values are ignored). */
  advance(position: number): void {
    if (position <= this.position) return;
    this.position = position;
    let n = 0;
    while (n < this.waiters.length && (this.waiters[n] as Waiter).target <= position) n++;
    if (n === 0) return;
    for (const w of this.waiters.splice(0, n)) w.resolve();
  }

  /**
   * Resolves once the position reaches `target`. Rejects with SessionReadTimeoutError
   * after `timeoutMs`, ReadAbortedError when `signal` fires.
   */
  wait(target: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (target <= this.position) return Promise.resolve();
    if (signal?.aborted)
      return Promise.reject(new ReadAbortedError("the read was aborted", { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        target,
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const drop = (error: Error): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        waiter.reject(error);
      };
      const timer = setTimeout(
        () => drop(new SessionReadTimeoutError(target, this.position)),
        timeoutMs,
      );
      const onAbort = (): void =>
        drop(new ReadAbortedError("the read was aborted", { cause: signal?.reason }));
      signal?.addEventListener("abort", onAbort, { once: true });
      // Insert in target order (binary search): advances settle a prefix.
      let lo = 0;
      let hi = this.waiters.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((this.waiters[mid] as Waiter).target <= target) lo = mid + 1;
        else hi = mid;
      }
      this.waiters.splice(lo, 0, waiter);
    });
  }

  /** Rejects every waiter with ReadBarrierClosedError. */
  close(): void {
    for (const w of this.waiters.splice(0))
      w.reject(new ReadBarrierClosedError("the read barrier is closed"));
  }
}
