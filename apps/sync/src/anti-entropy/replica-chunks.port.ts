import { CairnError, isInlineChunk, type ChunkRef } from '@cairn/protocol';

/**
 * The chunk step of a repair: a repaired version whose chunks are not inline needs their bytes in
 * this region before it may become visible here (architecture.md §4). Replication's chunk puller
 * (fed.<region>.chunk.range) does that; anti-entropy reaches it through this port so that the two
 * share one puller.
 */
export interface ReplicaChunkPuller {
  /**
   * Resolves once every chunk is held by this region's storage at its replication factor, pulled
   * from `sourceRegion` where missing; to how many were pulled. Rejects when one cannot be had.
   */
  ensureChunks(sourceRegion: string, chunks: readonly ChunkRef[], signal: AbortSignal): Promise<number>;
}

export const REPLICA_CHUNK_PULLER = Symbol('ReplicaChunkPuller');

export const ChunkPullErrorCodes = {
  /** No chunk puller in this sync: a version with chunks on storage cannot be repaired yet. */
  Unavailable: 'AE_CHUNK_PULLER_UNAVAILABLE',
} as const;

/** The chunks of a version that live on storage nodes (inline ones travel in the event). */
export function storedChunksOf(chunks: readonly ChunkRef[] | undefined): ChunkRef[] {
  return (chunks ?? []).filter((c) => !isInlineChunk(c));
}

/**
 * Until replication's chunk puller is wired in: refuses any version whose chunks are not inline, so
 * that repair never makes visible a version whose bytes this region lacks (the key is reported
 * with the error, and normal replication brings it). Versions with inline chunks only need nothing.
 */
export class NoChunkPuller implements ReplicaChunkPuller {
  async ensureChunks(sourceRegion: string, chunks: readonly ChunkRef[]): Promise<number> {
    if (chunks.length === 0) return 0;
    throw new CairnError(ChunkPullErrorCodes.Unavailable, `${chunks.length} chunk(s) would have to be pulled from ${sourceRegion}, and this sync has no chunk puller yet`);
  }
}
