/** A buffer lent by a ReadBufferPool. End the lease exactly once (later calls do nothing). */
export interface ReadBufferLease {
  readonly bytes: Buffer;
  /** Nothing refers to the bytes any more: the buffer may be lent again. */
  giveBack(): void;
  /** The bytes may still be referenced (a response that failed mid-write): the buffer is not reused. */
  drop(): void;
}

/**
 * Buffers for whole-chunk reads, reused rather than allocated per read: a node serving reads at
 * disk speed would otherwise allocate hundreds of MB a second of short-lived buffers and spend
 * its time in GC. Lends at most `maxLeases` at once (so whole reads stay bounded in memory) and
 * keeps at most that many `bufferBytes` buffers; a larger request gets a buffer of its own.
 */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  private leased = 0;

  constructor(
    readonly bufferBytes: number,
    readonly maxLeases: number,
  ) {
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes <= 0) throw new RangeError(`pool buffer size ${bufferBytes} must be a positive integer`);
    if (!Number.isSafeInteger(maxLeases) || maxLeases <= 0) throw new RangeError(`pool lease count ${maxLeases} must be a positive integer`);
  }

  get leasedCount(): number {
    return this.leased;
  }

  get pooledCount(): number {
    return this.free.length;
  }

  /** A buffer of at least `sizeBytes`, or null when `maxLeases` are out already. */
  tryLease(sizeBytes: number): ReadBufferLease | null {
    if (this.leased >= this.maxLeases) return null;
    this.leased++;
    const pooled = sizeBytes <= this.bufferBytes;
    const bytes = pooled ? (this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes)) : Buffer.allocUnsafeSlow(sizeBytes);
    let ended = false;
    const end = (reuse: boolean) => {
      if (ended) return;
      ended = true;
      this.leased--;
      if (reuse && pooled && this.free.length < this.maxLeases) this.free.push(bytes);
    };
    return { bytes, giveBack: () => end(true), drop: () => end(false) };
  }
}
