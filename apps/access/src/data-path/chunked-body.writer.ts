import type { ChunkRef } from '@cairn/protocol';
import { S3Error } from '../s3';
import type { ChunkStore } from './chunk-store.port';

export interface ChunkedBodyOptions {
  readonly store: ChunkStore;
  readonly chunkSizeBytes: number;
  /** EntityTooLarge past this many bytes. */
  readonly maxSizeBytes: number;
}

export interface StoredBody {
  readonly sizeBytes: number;
  readonly chunks: readonly ChunkRef[];
}

/**
 * Cuts a body into fixed-size chunks as it streams and stores each one before reading on, so a
 * request holds one chunk buffer whatever the object size; the source is paused (backpressure)
 * while a chunk is being written. Nothing is committed here: the caller commits the chunk list
 * to metadata only once the whole body has been received and verified.
 */
export async function storeChunkedBody(source: AsyncIterable<Buffer>, options: ChunkedBodyOptions): Promise<StoredBody> {
  const { store, chunkSizeBytes, maxSizeBytes } = options;
  let buffer: Buffer | undefined;
  let filledBytes = 0;
  let totalBytes = 0;
  const chunks: ChunkRef[] = [];

  const flush = async () => {
    if (!buffer || filledBytes === 0) return;
    const hash = await store.write(buffer.subarray(0, filledBytes));
    chunks.push({ hash, offsetBytes: totalBytes - filledBytes, sizeBytes: filledBytes });
    filledBytes = 0;
  };

  for await (const piece of source) {
    if (totalBytes + piece.length > maxSizeBytes) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(maxSizeBytes) });
    let offset = 0;
    while (offset < piece.length) {
      buffer ??= Buffer.allocUnsafe(chunkSizeBytes);
      const taken = Math.min(piece.length - offset, chunkSizeBytes - filledBytes);
      piece.copy(buffer, filledBytes, offset, offset + taken);
      filledBytes += taken;
      totalBytes += taken;
      offset += taken;
      if (filledBytes === chunkSizeBytes) await flush();
    }
  }
  await flush();
  return { sizeBytes: totalBytes, chunks };
}
