import { Readable } from 'node:stream';
import type { ChunkRef, ErasureLayout, StorageClass } from '@cairn/protocol';
import type { ChunkStore } from './chunk-store.port';
import { copyNeedsRewrite, readChunkRef, storeInClass } from './storage-class.store';

const stripe: ErasureLayout = { dataShards: 2, parityShards: 1, shardSizeBytes: 2, shards: ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)] };

/** A store that records which class each write asked for and makes every STANDARD_IA chunk a stripe. */
function classedStore(written: { bytes: number; storageClass: StorageClass }[]): ChunkStore {
  return {
    write: async () => 'plain'.padEnd(64, '0'),
    read: async () => Readable.from([Buffer.from('replica')]),
    writeIn: async (bytes, storageClass) => {
      written.push({ bytes: bytes.byteLength, storageClass });
      const hash = String(written.length).padStart(64, '0');
      return storageClass === 'STANDARD_IA' ? { hash, erasure: stripe } : { hash };
    },
    readChunk: async (chunk) => Readable.from([Buffer.from(chunk.erasure ? 'stripe' : 'replica')]),
  };
}

describe('storage classes in the gateway data path', () => {
  it('writes an upload in its class and gives erasure-coded chunks their stripe', async () => {
    const written: { bytes: number; storageClass: StorageClass }[] = [];
    const base = classedStore(written);
    const result = await storeInClass(base, 'STANDARD_IA', async (store) => {
      const a = await store.write(new Uint8Array(3));
      const b = await store.write(new Uint8Array(4));
      return { stored: { sizeBytes: 7, chunks: [{ hash: a, offsetBytes: 0, sizeBytes: 3 }, { hash: b, offsetBytes: 3, sizeBytes: 4 }] as ChunkRef[] } };
    });
    expect(written).toEqual([{ bytes: 3, storageClass: 'STANDARD_IA' }, { bytes: 4, storageClass: 'STANDARD_IA' }]);
    expect(result.stored.chunks.map((c) => c.erasure)).toEqual([stripe, stripe]);
  });

  it('leaves replicated and inline chunks as the writer made them', async () => {
    const result = await storeInClass(classedStore([]), 'REDUCED_REDUNDANCY', async (store) => {
      const a = await store.write(new Uint8Array(3));
      return { stored: { sizeBytes: 5, chunks: [{ hash: a, offsetBytes: 0, sizeBytes: 3 }, { hash: 'd'.repeat(64), offsetBytes: 3, sizeBytes: 2, inline: 'AAA=' }] as ChunkRef[] } };
    });
    expect(result.stored.chunks.every((c) => c.erasure === undefined)).toBe(true);
  });

  it('reads an erasure-coded chunk through its stripe, and refuses to with a store that cannot', async () => {
    const coded: ChunkRef = { hash: 'e'.repeat(64), offsetBytes: 0, sizeBytes: 4, erasure: stripe };
    const read = async (s: Readable) => Buffer.concat(await s.toArray()).toString();
    expect(await read(await readChunkRef(classedStore([]), coded))).toBe('stripe');
    const plain: ChunkStore = { write: async () => '', read: async () => Readable.from([Buffer.from('x')]) };
    expect(() => readChunkRef(plain, coded)).toThrow(/erasure-coded/);
  });

  it('re-stores a copy only when erasure coding differs', () => {
    const replicated: ChunkRef[] = [{ hash: 'f'.repeat(64), offsetBytes: 0, sizeBytes: 4 }];
    const coded: ChunkRef[] = [{ hash: 'e'.repeat(64), offsetBytes: 0, sizeBytes: 4, erasure: stripe }];
    expect(copyNeedsRewrite(replicated, 'GLACIER_IR')).toBe(true);
    expect(copyNeedsRewrite(replicated, 'REDUCED_REDUNDANCY')).toBe(false);
    expect(copyNeedsRewrite(coded, 'STANDARD')).toBe(true);
    expect(copyNeedsRewrite(coded, 'STANDARD_IA')).toBe(false);
    expect(copyNeedsRewrite([{ hash: 'd'.repeat(64), offsetBytes: 0, sizeBytes: 2, inline: 'AAA=' }], 'GLACIER_IR')).toBe(false);
  });
});
