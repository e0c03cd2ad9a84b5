/**
 * Bytes of a stream addressed by absolute offset: what a snapshot sender keeps so that a
 * broken transfer can continue from the receiver's last byte instead of from the start.
 * Bytes not yet written are never forgotten; written ones are kept up to `maxBytes`, so
 * memory stays within `maxBytes` plus the chunk being written.
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

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
  }

  /**
   * Everything before `written` has been sent: forget the oldest of those chunks while
   * more than `maxBytes` are held.
   */
  release(written: number): void {
    while (this.chunks.length > 0 && this.held > this.maxBytes) {
      const oldest = this.chunks[0]!;
      if (this.start + oldest.length > written) return;
      this.chunks.shift();
      this.held -= oldest.length;
      this.start += oldest.length;
    }
  }

  /** The bytes from absolute `offset` to the end, as a list of views; throws RangeError outside [start, end]. */
  from(offset: number): Uint8Array[] {
    if (offset < this.start || offset > this.end) {
      throw new RangeError(`offset ${offset} outside the held range [${this.start}, ${this.end}]`);
    }
    const out: Uint8Array[] = [];
    let position = this.start;
    for (const chunk of this.chunks) {
      const next = position + chunk.length;
      if (next > offset) out.push(offset > position ? chunk.subarray(offset - position) : chunk);
      position = next;
    }
    return out;
  }
}
