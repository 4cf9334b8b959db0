/** Randomness comes in from outside so that a run is reproducible from its seed. */
export interface RandomSource {
  /** An integer in [0, boundExclusive). */
  nextInt(boundExclusive: number): number;
}

/**
 * A small seeded generator (mulberry32): fast, 32 bits of state, good enough for timeouts and
 * fault schedules. Not for cryptography.
 */
export class SeededRandom implements RandomSource {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  nextInt(boundExclusive: number): number {
    if (boundExclusive <= 0) throw new RangeError(`bound must be positive, got ${boundExclusive}`);
    return Math.floor(this.nextFloat() * boundExclusive);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.nextInt(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.nextInt(items.length)];
  }

  /** An independent generator derived from this one, so sub-systems do not perturb each other. */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }
}
