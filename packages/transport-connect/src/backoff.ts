/** How long to wait between reconnection attempts to a peer. */
export interface BackoffOptions {
  /** Delay after the first failure. Default 50 ms. */
  initialDelayMs?: number;
  /** Upper bound of the delay. Default 2000 ms. */
  maxDelayMs?: number;
  /** Growth per consecutive failure. Default 2. */
  multiplier?: number;
}

/**
 * Exponential backoff with "equal jitter": each delay is uniformly drawn from
 * [cap/2, cap], where cap doubles per consecutive failure up to `maxDelayMs`. The jitter
 * keeps members that lost a peer at the same moment from reconnecting in lockstep; the
 * lower half bound keeps a flapping peer from being hammered.
 */
export class Backoff {
  private failures = 0;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly multiplier: number;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialDelayMs = options.initialDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
    this.multiplier = options.multiplier ?? 2;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const cap = Math.min(
      this.maxDelayMs,
      this.initialDelayMs * this.multiplier ** Math.min(this.failures, 64),
    );
    this.failures++;
    return cap / 2 + (this.random() * cap) / 2;
  }

  /** Consecutive failures so far. */
  get attempts(): number {
    return this.failures;
  }

  /** Forgets past failures, after a connection that worked. */
  reset(): void {
    this.failures = 0;
  }
}
