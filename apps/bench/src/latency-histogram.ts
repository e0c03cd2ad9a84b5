import { InvalidOptionError } from "./errors.js";

/**
 * Sub-buckets per power of two. Values below it get one bucket each; above, every bucket
 * spans 1/128 of its power-of-two range, so a reported value is at most 0.8% above the
 * true one (HDR histogram's "2 significant digits" class of precision).
 */
const SUB_BUCKETS = 128;
const SUB_BUCKET_BITS = 7;
/** Largest recordable value: 2^32 - 1 µs, about 71 minutes; larger values are clamped. */
export const MAX_RECORDABLE_US = 0xffff_ffff;
const BUCKETS = SUB_BUCKETS + (32 - SUB_BUCKET_BITS) * SUB_BUCKETS;

/** A histogram in a form that survives JSON (and so process boundaries). */
export interface LatencyHistogramSnapshot {
  /** Sparse bucket counts: [bucketIndex, count, bucketIndex, count, …]. */
  buckets: number[];
  count: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
  /** Values above MAX_RECORDABLE_US, recorded as MAX_RECORDABLE_US. */
  clamped: number;
}

function bucketOf(valueUs: number): number {
  if (valueUs < SUB_BUCKETS) return valueUs;
  const exponent = 31 - Math.clz32(valueUs);
  const shift = exponent - SUB_BUCKET_BITS;
  return SUB_BUCKETS + shift * SUB_BUCKETS + ((valueUs >>> shift) - SUB_BUCKETS);
}

/** The largest value that lands in bucket `index`. */
function highestInBucket(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const shift = Math.floor((index - SUB_BUCKETS) / SUB_BUCKETS);
  const sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
  return (SUB_BUCKETS + sub + 1) * 2 ** shift - 1;
}

/**
 * A latency histogram with fixed log-linear buckets in whole microseconds: recording is
 * O(1) with no allocation, histograms of different workers merge exactly by adding
 * counts, and percentiles carry at most 0.8% of bucket error (values under 128 µs are
 * exact). Values are truncated to whole microseconds; negative or non-finite values throw
 * InvalidOptionError.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;
  private clampedCount = 0;

  /** Rebuilds a histogram from toJSON() output; throws InvalidOptionError if malformed. */
  static fromJSON(snapshot: LatencyHistogramSnapshot): LatencyHistogram {
    const histogram = new LatencyHistogram();
    const { buckets } = snapshot;
    if (!Array.isArray(buckets) || buckets.length % 2 !== 0) {
      throw new InvalidOptionError("histogram snapshot: buckets must be [index, count] pairs");
    }
    let total = 0;
    for (let i = 0; i < buckets.length; i += 2) {
      const index = buckets[i] as number;
      const count = buckets[i + 1] as number;
      if (!Number.isInteger(index) || index < 0 || index >= BUCKETS || !(count > 0)) {
        throw new InvalidOptionError(`histogram snapshot: bad bucket ${index}=${count}`);
      }
      histogram.counts[index] = (histogram.counts[index] as number) + count;
      total += count;
    }
    if (total !== snapshot.count) {
      throw new InvalidOptionError(
        `histogram snapshot: bucket counts sum to ${total}, count says ${snapshot.count}`,
      );
    }
    histogram.total = total;
    histogram.sum = snapshot.sumUs;
    histogram.min = total === 0 ? Number.POSITIVE_INFINITY : snapshot.minUs;
    histogram.max = snapshot.maxUs;
    histogram.clampedCount = snapshot.clamped;
    return histogram;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.total;
  }

  /** Values recorded as MAX_RECORDABLE_US because they were larger. */
  get clamped(): number {
    return this.clampedCount;
  }

  /** Records one latency in microseconds. */
  record(valueUs: number): void {
    if (!(valueUs >= 0) || !Number.isFinite(valueUs)) {
      throw new InvalidOptionError(`latency must be a finite number ≥ 0, got ${valueUs}`);
    }
    let value = Math.floor(valueUs);
    if (value > MAX_RECORDABLE_US) {
      value = MAX_RECORDABLE_US;
      this.clampedCount += 1;
    }
    const index = bucketOf(value);
    this.counts[index] = (this.counts[index] as number) + 1;
    this.total += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) {
      const count = other.counts[i] as number;
      if (count !== 0) this.counts[i] = (this.counts[i] as number) + count;
    }
    this.total += other.total;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.clampedCount += other.clampedCount;
  }

  /**
   * The value at percentile `p` (0–100]: the highest value of the bucket holding the
   * ⌈p/100 · count⌉-th smallest value, capped at the largest recorded value, so it never
   * under-reports by more than the bucket width. 0 for an empty histogram.
   */
  percentile(p: number): number {
    if (!(p > 0 && p <= 100)) {
      throw new InvalidOptionError(`percentile must be in (0, 100], got ${p}`);
    }
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return Math.min(highestInBucket(i), this.max);
    }
    return this.max;
  }

  /** Smallest recorded value; 0 when empty. */
  get minUs(): number {
    return this.total === 0 ? 0 : this.min;
  }

  /** Largest recorded value; 0 when empty. */
  get maxUs(): number {
    return this.max;
  }

  /** Mean of the recorded (truncated) values; 0 when empty. */
  get meanUs(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** A compact, JSON-safe copy; LatencyHistogram.fromJSON restores it. */
  toJSON(): LatencyHistogramSnapshot {
    const buckets: number[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const count = this.counts[i] as number;
      if (count !== 0) buckets.push(i, count);
    }
    return {
      buckets,
      count: this.total,
      sumUs: this.sum,
      minUs: this.minUs,
      maxUs: this.max,
      clamped: this.clampedCount,
    };
  }
}
