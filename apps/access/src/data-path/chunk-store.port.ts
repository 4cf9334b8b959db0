import type { Readable } from 'node:stream';

/** Where object bytes live: content-addressed chunks, replicated and verified by the adapter. */
export interface ChunkStore {
  /** Stores the bytes at the write quorum and returns their SHA-256 hex name. */
  write(bytes: Uint8Array): Promise<string>;
  /** Streams a chunk (or `[start, end)` of it); whole chunks are verified against their hash. */
  read(hash: string, range?: { readonly start: number; readonly end: number }): Promise<Readable>;
}

export const CHUNK_STORE = Symbol('ChunkStore');
