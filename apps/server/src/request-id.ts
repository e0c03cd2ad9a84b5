/**
 * Unique ids for replicated requests, as etcd's idutil makes them: the member's low 16
 * bits, then a 48-bit counter that starts at the current time in milliseconds shifted
 * left by 8. Ids stay unique across members (different prefixes) and across restarts
 * of one member, as long as it proposes fewer than 256 requests per millisecond on
 * average over its lifetime — the counter then never falls behind the clock.
 */
export class RequestIdGenerator {
  private readonly prefix: bigint;
  private counter: bigint;

  constructor(memberId: number, nowMs: number = Date.now()) {
    this.prefix = (BigInt(memberId) & 0xffffn) << 48n;
    this.counter = (BigInt(Math.floor(nowMs)) << 8n) & 0xffff_ffff_ffffn;
  }

  next(): bigint {
    this.counter = (this.counter + 1n) & 0xffff_ffff_ffffn;
    return this.prefix | this.counter;
  }
}
