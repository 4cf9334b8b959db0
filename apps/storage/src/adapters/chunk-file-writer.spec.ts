import { AlignedBlockPool } from './chunk-file-writer';

const KiB = 1024;

describe('AlignedBlockPool', () => {
  it('lends distinct, non-overlapping blocks of one memory, and none past the count', () => {
    const pool = new AlignedBlockPool(64 * KiB, 4);
    const taken = pool.tryTake(3)!;
    expect(taken).toHaveLength(3);
    for (const block of taken) expect(block.length).toBe(64 * KiB);
    const offsets = taken.map((b) => b.byteOffset).sort((a, b) => a - b);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i] - offsets[i - 1]).toBeGreaterThanOrEqual(64 * KiB);
    expect(pool.tryTake(2)).toBeNull();
    expect(pool.freeCount).toBe(1);
  });

  it('lends a block again once it is given back', () => {
    const pool = new AlignedBlockPool(64 * KiB, 2);
    const [a, b] = pool.tryTake(2)!;
    pool.giveBack([a]);
    expect(pool.tryTake(1)).toEqual([a]);
    pool.giveBack([a, b]);
    expect(pool.freeCount).toBe(2);
  });

  it('refuses a block size that is not a whole number of WebAssembly pages', () => {
    expect(() => new AlignedBlockPool(4 * KiB, 2)).toThrow(RangeError);
    expect(() => new AlignedBlockPool(64 * KiB, 0)).toThrow(RangeError);
  });
});
