import type { Readable } from 'node:stream';
import type { ChunkRef, ErasureLayout, StorageClass } from '@cairn/protocol';

/** Where object bytes live: content-addressed chunks, replicated and verified by the adapter. */
export interface ChunkStore {
  /**
   * Stores the bytes at the write quorum and returns their SHA-256 hex name. `name`: that name when
   * the caller hashed them already (a wrong one fails the write: every storage node checks it).
   */
  write(bytes: Uint8Array, name?: string): Promise<string>;
  /**
   * Streams a chunk (or `[start, end)` of it); whole chunks are verified against their hash. `into`:
   * a buffer the bytes may be received into (the stream then yields a view of it); the caller
   * reuses it only once done with what the stream gave.
   */
  read(hash: string, range?: { readonly start: number; readonly end: number }, into?: Buffer): Promise<Readable>;
  /**
   * Stores the bytes in a storage class's layout (docs/storage-classes.md): replicated at the class's
   * RF, or as an erasure-coded stripe, returned. Absent: write() (STANDARD).
   */
  writeIn?(bytes: Uint8Array, storageClass: StorageClass, name?: string): Promise<{ readonly hash: string; readonly erasure?: ErasureLayout }>;
  /** Streams a chunk by its reference (an erasure-coded chunk is read through its stripe), `into` as read's. Absent: read(hash). */
  readChunk?(chunk: ChunkRef, range?: { readonly start: number; readonly end: number }, into?: Buffer): Promise<Readable>;
  /** The chunks re-stored in another class (same bytes and names; lifecycle and class-changing copies). */
  rewrite?(chunks: readonly ChunkRef[], storageClass: StorageClass): Promise<ChunkRef[]>;
}

export const CHUNK_STORE = Symbol('ChunkStore');
