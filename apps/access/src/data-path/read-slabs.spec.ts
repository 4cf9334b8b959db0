import { READ_HOLDBACK_BYTES } from '@cairn/chunk-client';
import { ReadSlabs } from './read-slabs';

describe('ReadSlabs', () => {
  it('gives a slab only for a slice of exactly its size', () => {
    const slabs = new ReadSlabs(1000);
    expect(slabs.take(999)).toBeNull();
    expect(slabs.take(1001)).toBeNull();
    expect(slabs.take(1000)?.length).toBe(1000);
  });

  it('reuses a slab given back, and keeps no more than it was told to', () => {
    const slabs = new ReadSlabs(1000, 2);
    const taken = [slabs.take(1000)!, slabs.take(1000)!, slabs.take(1000)!];
    expect(new Set(taken).size).toBe(3);
    taken.forEach((slab) => slabs.giveBack(slab));
    expect(slabs.keptCount).toBe(2);
    expect(taken).toContain(slabs.take(1000));
  });

  it('keeps a slab given back twice only once', () => {
    const slabs = new ReadSlabs(1000);
    const slab = slabs.take(1000)!;
    slabs.giveBack(slab);
    slabs.giveBack(slab);
    expect(slabs.keptCount).toBe(1);
  });

  it('is made only for chunks the chunk client holds back whole', () => {
    expect(ReadSlabs.forChunksOf(READ_HOLDBACK_BYTES)?.slabBytes).toBe(READ_HOLDBACK_BYTES);
    expect(ReadSlabs.forChunksOf(READ_HOLDBACK_BYTES + 1)).toBeUndefined();
  });
});
