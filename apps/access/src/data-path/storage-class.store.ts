import type { Readable } from 'node:stream';
import { isErasureCodedChunk, isErasureCodedClass, isInlineChunk, type ChunkRef, type ErasureLayout, type StorageClass } from '@cairn/protocol';
import type { ChunkStore } from './chunk-store.port';
import type { StoredBody } from './chunked-body.writer';

/**
 * Runs an upload's chunking with a store that writes in `storageClass`'s layout, then gives each
 * erasure-coded chunk its stripe (ChunkRef.erasure). The chunk writer and the handlers around it
 * stay as they are: they see a plain ChunkStore.
 */
export async function storeInClass<T extends { readonly stored: StoredBody }>(
  base: ChunkStore,
  storageClass: StorageClass,
  run: (store: ChunkStore) => Promise<T>,
): Promise<T> {
  const writeIn = base.writeIn?.bind(base);
  if (!writeIn) return run(base);
  const stripes = new Map<string, ErasureLayout>();
  const store: ChunkStore = {
    write: async (bytes, name) => {
      const stored = await writeIn(bytes, storageClass, name);
      if (stored.erasure) stripes.set(stored.hash, stored.erasure);
      return stored.hash;
    },
    read: (hash, range, into) => base.read(hash, range, into),
    ...(base.readChunk ? { readChunk: base.readChunk.bind(base) } : {}),
  };
  const result = await run(store);
  if (stripes.size === 0) return result;
  const chunks = result.stored.chunks.map((c) => {
    const erasure = isInlineChunk(c) ? undefined : stripes.get(c.hash);
    return erasure ? { ...c, erasure } : c;
  });
  return { ...result, stored: { ...result.stored, chunks } };
}

/** Streams one chunk by its reference: an erasure-coded chunk is read through its stripe. `into` as ChunkStore.read's. */
export function readChunkRef(store: ChunkStore, chunk: ChunkRef, range?: { readonly start: number; readonly end: number }, into?: Buffer): Promise<Readable> {
  if (store.readChunk) return store.readChunk(chunk, range, into);
  if (isErasureCodedChunk(chunk)) throw new Error(`chunk ${chunk.hash} is erasure-coded and this store cannot read stripes`);
  return store.read(chunk.hash, range, into);
}

/**
 * Whether a copy into `storageClass` must store the bytes again: only when erasure coding differs
 * (replicated classes share chunks; the repair sweep brings them to the highest RF that names them).
 */
export function copyNeedsRewrite(chunks: readonly ChunkRef[], storageClass: StorageClass): boolean {
  const stored = chunks.filter((c) => !isInlineChunk(c));
  if (stored.length === 0) return false;
  const coded = stored.some((c) => isErasureCodedChunk(c));
  return coded !== isErasureCodedClass(storageClass);
}
