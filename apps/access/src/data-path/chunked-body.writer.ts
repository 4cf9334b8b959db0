import { contentHashOf } from '@cairn/hashing';
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
  /**
   * A whole body of at most this many bytes is kept inline in its chunk reference (so in metadata)
   * instead of on storage nodes; 0 stores every body on storage nodes.
   */
  readonly inlineMaxBytes?: number;
  /**
   * Encrypts each chunk before it leaves the gateway (docs/encryption.md): the chunk is stored (and
   * named) by its ciphertext, and its reference carries the chunk's IV.
   */
  readonly encrypt?: (plain: Buffer) => { readonly bytes: Buffer; readonly iv: string };
}

export interface StoredBody {
  readonly sizeBytes: number;
  readonly chunks: readonly ChunkRef[];
}

/**
 * Cuts a body into fixed-size chunks as it streams and stores each one before reading on, so a
 * request holds one chunk buffer (taken from the gateway's memory budget) whatever the object
 * size; the source is paused (backpressure) while a chunk is being written. A full buffer is
 * written only once more bytes arrive, so a body that ends within the inline limit is never sent
 * to storage nodes. Nothing is committed here: the caller commits the chunk list to metadata only
 * once the whole body has been received and verified.
 */
export async function storeChunkedBody(source: AsyncIterable<Buffer>, options: ChunkedBodyOptions): Promise<StoredBody> {
  const { store, chunkSizeBytes, maxSizeBytes, budget } = options;
  const inlineMaxBytes = Math.min(options.inlineMaxBytes ?? 0, chunkSizeBytes);
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
    const plain = buffer.subarray(0, filledBytes);
    const sealed = options.encrypt?.(plain);
    const hash = await store.write(sealed ? sealed.bytes : plain);
    chunks.push({ hash, offsetBytes: totalBytes - filledBytes, sizeBytes: filledBytes, ...(sealed ? { iv: sealed.iv } : {}) });
    filledBytes = 0;
  };

  try {
    for await (const piece of source) {
      if (totalBytes + piece.length > maxSizeBytes) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(maxSizeBytes) });
      let offset = 0;
      while (offset < piece.length) {
        if (filledBytes === bufferBytes) await flush();
        buffer ??= Buffer.allocUnsafe(bufferBytes);
        const taken = Math.min(piece.length - offset, bufferBytes - filledBytes);
        piece.copy(buffer, filledBytes, offset, offset + taken);
        filledBytes += taken;
        totalBytes += taken;
        offset += taken;
      }
    }
    if (buffer && chunks.length === 0 && filledBytes > 0 && filledBytes <= inlineMaxBytes) {
      const plain = buffer.subarray(0, filledBytes);
      const sealed = options.encrypt?.(plain);
      const bytes = sealed ? sealed.bytes : plain;
      chunks.push({ hash: contentHashOf(bytes), offsetBytes: 0, sizeBytes: filledBytes, inline: bytes.toString('base64'), ...(sealed ? { iv: sealed.iv } : {}) });
    } else {
      await flush();
    }
  } finally {
    release();
  }
  return { sizeBytes: totalBytes, chunks };
}
