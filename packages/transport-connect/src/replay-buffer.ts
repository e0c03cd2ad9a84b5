/**
 * The most recent bytes of a stream, up to a byte limit, addressed by absolute offset:
 * what a snapshot sender keeps so that a broken transfer can continue from the
 * receiver's last byte instead of from the start.
 */
export class ReplayBuffer {
  private chunks: Uint8Array[] = [];
  private held = 0;
  /** Absolute offset of the first byte held. */
  start = 0;

  constructor(private readonly maxBytes: number) {}

  /** Absolute offset just past the last byte appended. */
  get end(): number {
    return this.start + this.held;
  }

  /** Appends a chunk, forgetting the oldest chunks beyond the limit (the newest is always kept). */
  append(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.held += chunk.length;
    while (this.chunks.length > 1 && this.held > this.maxBytes) {
      const dropped = this.chunks.shift()!;
      this.held -= dropped.length;
      this.start += dropped.length;
    }
    if (this.held > this.maxBytes && this.chunks.length === 1) {
      // One chunk larger than the limit: keep only its tail.
      const only = this.chunks[0]!;
      const keep = only.subarray(only.length - this.maxBytes);
      this.start += only.length - keep.length;
      this.held = keep.length;
      this.chunks[0] = keep;
    }
  }

  /** The bytes from absolute `offset` to the end; `offset` must be within [start, end]. */
  *from(offset: number): Generator<Uint8Array> {
    if (offset < this.start || offset > this.end) {
      throw new RangeError(`offset ${offset} outside the held range [${this.start}, ${this.end}]`);
    }
    let position = this.start;
    for (const chunk of this.chunks) {
      const next = position + chunk.length;
      if (next > offset) yield offset > position ? chunk.subarray(offset - position) : chunk;
      position = next;
    }
  }
}
