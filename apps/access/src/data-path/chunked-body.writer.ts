import type { ChunkRef } from '@cairn/protocol';
import { S3Error } from '../s3';
import type { ChunkStore } from './chunk-store.port';
import type { MemoryBudget } from './memory-budget';

export interface ChunkedBodyOptions {
  readonly store: ChunkStore;
  readonly chunkSizeBytes: number;
  /** EntityTooLarge past this many bytes. */
  readonly maxSizeBytes: number;
  /** The gateway-wide write budget the chunk buffer is taken from (reads have their own). */
  readonly budget: MemoryBudget;
  /** The announced body length: a body shorter than a chunk gets a buffer of its own size. */
  readonly sizeHintBytes?: number;
}

export interface StoredBody {
  readonly sizeBytes: number;
  readonly chunks: readonly ChunkRef[];
}

/**
 * Cuts a body into fixed-size chunks as it streams and stores each one before reading on, so a
 * request holds one chunk buffer (taken from the gateway's memory budget) whatever the object
 * size; the source is paused (backpressure) while a chunk is being written. Nothing is committed here: the caller commits the chunk list
 * to metadata only once the whole body has been received and verified.
 */
export async function storeChunkedBody(source: AsyncIterable<Buffer>, options: ChunkedBodyOptions): Promise<StoredBody> {
  const { store, chunkSizeBytes, maxSizeBytes, budget } = options;
  // A body longer than announced fills the small buffer and is cut there; its length check fails later.
  const bufferBytes = Math.max(1, Math.min(chunkSizeBytes, options.sizeHintBytes ?? chunkSizeBytes));
  let buffer: Buffer | undefined;
  // Taken before the source is read: a copy (which reads chunks under the read budget) then
  // always holds write before read, and the two budgets can never wait on each other in a cycle.
  const release = await budget.acquire(bufferBytes);
  let filledBytes = 0;
  let totalBytes = 0;
  const chunks: ChunkRef[] = [];

  const flush = async () => {
    if (!buffer || filledBytes === 0) return;
    const hash = await store.write(buffer.subarray(0, filledBytes));
    chunks.push({ hash, offsetBytes: totalBytes - filledBytes, sizeBytes: filledBytes });
    filledBytes = 0;
  };

  try {
    for await (const piece of source) {
      if (totalBytes + piece.length > maxSizeBytes) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(maxSizeBytes) });
      let offset = 0;
      while (offset < piece.length) {
        buffer ??= Buffer.allocUnsafe(bufferBytes);
        const taken = Math.min(piece.length - offset, bufferBytes - filledBytes);
        piece.copy(buffer, filledBytes, offset, offset + taken);
        filledBytes += taken;
        totalBytes += taken;
        offset += taken;
        if (filledBytes === bufferBytes) await flush();
      }
    }
    await flush();
  } finally {
    release();
  }
  return { sizeBytes: totalBytes, chunks };
}
