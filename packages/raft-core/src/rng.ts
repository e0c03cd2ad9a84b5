/**
 * A source of pseudo-random numbers. RawNode takes one so that its only nondeterminism
 * (the randomized election timeout) is reproducible from a seed.
 */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number;
  /** A uniformly distributed integer in `[0, bound)`; `bound` must be in `[1, 2^32]`. */
  nextInt(bound: number): number;
  /** A uniformly distributed float in `[0, 1)`. */
  nextFloat(): number;
}

/**
 * xoshiro128** (Blackman and Vigna), seeded from one 32-bit integer through splitmix32 so
 * that nearby seeds give unrelated streams. Fast, 128 bits of state, period 2^128 - 1;
 * not cryptographic. The same seed always yields the same sequence on every platform.
 */
export class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is the one state xoshiro never leaves; splitmix32 cannot produce
    // four zero words in a row, but guard anyway so the invariant does not rest on that.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 0x1_0000_0000) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${bound}`);
    }
    // Rejection sampling removes the modulo bias of `nextUint32() % bound`.
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
    for (;;) {
      const v = this.nextUint32();
      if (v < limit) return v % bound;
    }
  }

  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A seeded `Rng` (xoshiro128**). Equal seeds give equal sequences. */
export function createRng(seed: number): Rng {
  return new Xoshiro128(seed);
}
