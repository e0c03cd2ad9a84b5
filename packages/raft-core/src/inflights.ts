/**
 * The append messages sent to one follower and not yet acknowledged, bounded in count and
 * in bytes: the window of pipelined replication. Each message is remembered by the index of
 * its last entry, so an acknowledgement of index `i` frees every message up to `i`.
 * A ring buffer, so sending and acknowledging never allocate once the buffer has grown.
 */
export class Inflights {
  /** Maximum number of messages in flight. */
  readonly maxCount: number;
  /** Maximum total entry bytes in flight; 0 means no byte limit. */
  readonly maxBytes: number;
  private start = 0;
  private count_ = 0;
  private bytes_ = 0;
  private indexes: Float64Array;
  private sizes: Float64Array;

  constructor(maxCount: number, maxBytes: number) {
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
    // Grows on demand up to maxCount, so idle followers cost little memory.
    const initial = Math.min(maxCount, 16);
    this.indexes = new Float64Array(initial);
    this.sizes = new Float64Array(initial);
  }

  get count(): number {
    return this.count_;
  }

  get bytes(): number {
    return this.bytes_;
  }

  /** True when no further message may be sent until some are acknowledged. */
  full(): boolean {
    return this.count_ === this.maxCount || (this.maxBytes > 0 && this.bytes_ >= this.maxBytes);
  }

  /** Records a message whose last entry has `index` and whose entries total `bytes`. */
  add(index: number, bytes: number): void {
    if (this.count_ === this.maxCount) {
      throw new RangeError("inflights: add called while full");
    }
    if (this.count_ === this.indexes.length) this.grow();
    let slot = this.start + this.count_;
    if (slot >= this.indexes.length) slot -= this.indexes.length;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count_++;
    this.bytes_ += bytes;
  }

  /** Frees every message whose last index is at or below `index`. */
  freeLE(index: number): void {
    const cap = this.indexes.length;
    let i = this.start;
    let freed = 0;
    let freedBytes = 0;
    while (freed < this.count_ && this.indexes[i]! <= index) {
      freedBytes += this.sizes[i]!;
      freed++;
      i++;
      if (i === cap) i = 0;
    }
    this.count_ -= freed;
    this.bytes_ -= freedBytes;
    this.start = this.count_ === 0 ? 0 : i;
  }

  /** The index of the oldest message in flight, or undefined when none. */
  firstIndex(): number | undefined {
    return this.count_ === 0 ? undefined : this.indexes[this.start];
  }

  reset(): void {
    this.start = 0;
    this.count_ = 0;
    this.bytes_ = 0;
  }

  private grow(): void {
    const cap = Math.min(this.maxCount, Math.max(1, this.indexes.length * 2));
    const indexes = new Float64Array(cap);
    const sizes = new Float64Array(cap);
    for (let k = 0; k < this.count_; k++) {
      const from = (this.start + k) % this.indexes.length;
      indexes[k] = this.indexes[from]!;
      sizes[k] = this.sizes[from]!;
    }
    this.indexes = indexes;
    this.sizes = sizes;
    this.start = 0;
  }
}
