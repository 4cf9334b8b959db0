import { READ_HOLDBACK_BYTES } from '@cairn/chunk-client';

/** Slabs kept for reuse once given back: two per request at four 64 MiB GETs reading one chunk ahead. */
export const READ_SLABS_KEPT = 8;

/**
 * Buffers that whole chunks are received into and reused, request after request. A chunk the
 * gateway receives fresh (a buffer per socket read, held until the chunk is served) lives long
 * enough to reach the old generation, so each one read added to what only a full collection frees,
 * and the gateway spent a large share of its CPU in them. A slab is taken for a chunk of exactly its
 * size and given back only when nothing holds its bytes any more: beyond READ_SLABS_KEPT it is
 * left to the collector. The read budget still counts the bytes of every chunk held.
 */
export class ReadSlabs {
  private readonly free: Buffer[] = [];

  constructor(
    readonly slabBytes: number,
    private readonly keptSlabs: number = READ_SLABS_KEPT,
  ) {
    if (!Number.isSafeInteger(slabBytes) || slabBytes <= 0) throw new RangeError(`slab size ${slabBytes} must be a positive integer`);
  }

  /** Slabs for chunks of `chunkSizeBytes`, when the chunk client holds such a chunk back whole (else it streams it and a slab would go unused). */
  static forChunksOf(chunkSizeBytes: number): ReadSlabs | undefined {
    return chunkSizeBytes <= READ_HOLDBACK_BYTES ? new ReadSlabs(chunkSizeBytes) : undefined;
  }

  get keptCount(): number {
    return this.free.length;
  }

  /** A slab for a slice of `bytes`, or null when slabs are not for that size. */
  take(bytes: number): Buffer | null {
    if (bytes !== this.slabBytes) return null;
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes);
  }

  /** Only once nothing reads or writes the slab's bytes any more (a socket write included). */
  giveBack(slab: Buffer): void {
    if (slab.length === this.slabBytes && this.free.length < this.keptSlabs && !this.free.includes(slab)) this.free.push(slab);
  }
}
