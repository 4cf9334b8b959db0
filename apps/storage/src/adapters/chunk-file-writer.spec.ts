import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContentHasher, contentHashOf } from '@cairn/hashing';
import { AlignedBlockPool, ReceivingChunkFileWriter } from './chunk-file-writer';

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

describe('ReceivingChunkFileWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-receiving-writer-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  /** Lands `data` through the writer in reads of the given sizes, as a socket would, waiting whenever it lends no window. */
  async function receive(writer: ReceivingChunkFileWriter, data: Buffer, readSizes: number[], freed: { wait: () => Promise<void> }): Promise<number> {
    let at = 0;
    let pauses = 0;
    for (let i = 0; at < data.length; i++) {
      let window = writer.next();
      while (!window) {
        pauses++;
        await freed.wait();
        window = writer.next();
      }
      // Asking again without a landing lends the same memory.
      const again = writer.next()!;
      expect([again.byteOffset, again.length]).toEqual([window.byteOffset, window.length]);
      const n = Math.min(readSizes[i % readSizes.length], window.length, data.length - at);
      window.set(data.subarray(at, at + n));
      writer.landed(n);
      at += n;
    }
    return pauses;
  }

  function freedSignal() {
    let waiting: (() => void) | null = null;
    return {
      onBlockFree: () => {
        waiting?.();
        waiting = null;
      },
      wait: () => new Promise<void>((resolve) => (waiting = resolve)),
    };
  }

  it.each([
    ['in reads of odd sizes, ending inside a block', 3 * 64 * KiB + 4_097, [1, 1_000, 17 * KiB, 64 * KiB]],
    ['in whole blocks, ending on a block boundary', 6 * 64 * KiB, [64 * KiB]],
  ])('writes every byte in order and hashes it, %s', async (_label, sizeBytes, readSizes) => {
    const data = randomBytes(sizeBytes);
    const fh = await fsp.open(path.join(dir, 'chunk.part'), 'wx');
    const pool = new AlignedBlockPool(64 * KiB, 2);
    const hasher = new ContentHasher();
    const freed = freedSignal();
    const writer = new ReceivingChunkFileWriter(fh, pool.tryTake(2)!, sizeBytes, hasher, { onBlockFree: freed.onBlockFree, onWriteFailed: () => undefined });
    await receive(writer, data, readSizes, freed);
    expect(writer.next()).toBeNull();
    await writer.finish();
    await fh.close();
    expect(hasher.digest()).toBe(contentHashOf(data));
    expect((await fsp.readFile(path.join(dir, 'chunk.part'))).equals(data)).toBe(true);
  });

  it('lends nothing while both blocks are being written, and says when one is free', async () => {
    const fh = await fsp.open(path.join(dir, 'chunk.part'), 'wx');
    const pool = new AlignedBlockPool(64 * KiB, 2);
    const freed = freedSignal();
    let frees = 0;
    const writer = new ReceivingChunkFileWriter(fh, pool.tryTake(2)!, 4 * 64 * KiB, new ContentHasher(), {
      onBlockFree: () => {
        frees++;
        freed.onBlockFree();
      },
      onWriteFailed: () => undefined,
    });
    for (let i = 0; i < 2; i++) writer.landed(writer.next()!.length);
    expect(writer.next()).toBeNull();
    await freed.wait();
    expect(frees).toBe(1);
    expect(writer.next()).not.toBeNull();
    await receive(writer, randomBytes(2 * 64 * KiB), [64 * KiB], freed);
    await writer.finish();
    await fh.close();
  });

  it('reports a failed write, lends nothing after it, and fails finish', async () => {
    const fh = await fsp.open(path.join(dir, 'chunk.part'), 'wx');
    const pool = new AlignedBlockPool(64 * KiB, 2);
    const failures: Error[] = [];
    const writer = new ReceivingChunkFileWriter(fh, pool.tryTake(2)!, 3 * 64 * KiB, new ContentHasher(), { onBlockFree: () => undefined, onWriteFailed: (e) => failures.push(e) });
    await fh.close();
    writer.landed(writer.next()!.length);
    await writer.settle();
    expect(failures).toHaveLength(1);
    expect(writer.failure).toBe(failures[0]);
    expect(writer.next()).toBeNull();
    await expect(writer.finish()).rejects.toBe(failures[0]);
  });

  it('refuses a landing larger than the window lent', async () => {
    const fh = await fsp.open(path.join(dir, 'chunk.part'), 'wx');
    const writer = new ReceivingChunkFileWriter(fh, new AlignedBlockPool(64 * KiB, 2).tryTake(2)!, 100, new ContentHasher(), { onBlockFree: () => undefined, onWriteFailed: () => undefined });
    expect(writer.next()!.length).toBe(100);
    expect(() => writer.landed(101)).toThrow(RangeError);
    await fh.close();
  });
});
