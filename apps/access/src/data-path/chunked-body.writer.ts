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
 * Cuts a body into fixed-size chunks as it streams and stores them in order, one write at a time.
 * While a chunk is being written (its replicas fsync'd) the next one is received into a second
 * buffer, when the gateway's memory budget has one to spare without waiting; otherwise the source
 * is paused (backpressure) until the write is done. So a request holds at most two chunk buffers,
 * whatever the object size. A full buffer is written only once more bytes arrive, so a body that
 * ends within the inline limit is never sent to storage nodes. Nothing is committed here: the
 * caller commits the chunk list to metadata only once the whole body has been received and verified.
 */
export async function storeChunkedBody(source: AsyncIterable<Buffer>, options: ChunkedBodyOptions): Promise<StoredBody> {
  const { store, chunkSizeBytes, maxSizeBytes, budget } = options;
  const inlineMaxBytes = Math.min(options.inlineMaxBytes ?? 0, chunkSizeBytes);
  // A body longer than announced fills the small buffer and is cut there; its length check fails later.
  const bufferBytes = Math.max(1, Math.min(chunkSizeBytes, options.sizeHintBytes ?? chunkSizeBytes));
  let buffer: Buffer | undefined;
  // Taken before the source is read: a copy (which reads chunks under the read budget) then
  // always holds write before read, and the two budgets can never wait on each other in a cycle.
  // The second buffer is only ever taken with tryAcquire, so it adds no wait to that order.
  const releases = [await budget.acquire(bufferBytes)];
  let hasSecondBuffer = false;
  const spareBuffers: Buffer[] = [];
  /** The previous chunk's write, still running while the next chunk is received. */
  let writing: { readonly done: Promise<void>; readonly buffer: Buffer } | undefined;
  let filledBytes = 0;
  let totalBytes = 0;
  const chunks: ChunkRef[] = [];

  const finishWriting = async () => {
    if (!writing) return;
    const { done, buffer: written } = writing;
    writing = undefined;
    await done;
    spareBuffers.push(written);
  };

  const flush = async () => {
    if (!buffer || filledBytes === 0) return;
    // One write at a time: the chunk list stays in order and at most two buffers are held.
    await finishWriting();
    const plain = buffer.subarray(0, filledBytes);
    const sealed = options.encrypt?.(plain);
    const chunk = { offsetBytes: totalBytes - filledBytes, sizeBytes: filledBytes, ...(sealed ? { iv: sealed.iv } : {}) };
    const done = store.write(sealed ? sealed.bytes : plain).then((hash) => {
      chunks.push({ hash, ...chunk });
    });
    filledBytes = 0;
    if (!hasSecondBuffer) {
      const release = budget.tryAcquire(bufferBytes);
      if (release) {
        releases.push(release);
        hasSecondBuffer = true;
        spareBuffers.push(Buffer.allocUnsafe(bufferBytes));
      }
    }
    if (spareBuffers.length === 0) {
      await done;
      return;
    }
    // Observed by finishWriting; a failure meanwhile must not count as unhandled.
    done.catch(() => undefined);
    writing = { done, buffer };
    buffer = spareBuffers.pop();
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
    if (buffer && chunks.length === 0 && !writing && filledBytes > 0 && filledBytes <= inlineMaxBytes) {
      const plain = buffer.subarray(0, filledBytes);
      const sealed = options.encrypt?.(plain);
      const bytes = sealed ? sealed.bytes : plain;
      chunks.push({ hash: contentHashOf(bytes), offsetBytes: 0, sizeBytes: filledBytes, inline: bytes.toString('base64'), ...(sealed ? { iv: sealed.iv } : {}) });
    } else {
      await flush();
      await finishWriting();
    }
  } finally {
    // A write still running holds its buffer: the budget is given back only once it has settled.
    await writing?.done.catch(() => undefined);
    for (const release of releases) release();
  }
  return { sizeBytes: totalBytes, chunks };
}
