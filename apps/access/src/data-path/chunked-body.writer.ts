import { contentHashOf } from '@cairn/hashing';
import type { ChunkRef } from '@cairn/protocol';
import { S3Error } from '../s3';
import type { ChunkStore } from './chunk-store.port';
import type { MemoryBudget } from './memory-budget';
import type { UploadHashes } from './upload-hashes';

/** A filling chunk buffer goes to the upload's hashes this much at a time, so a chunk's name is ready soon after its last byte. */
export const HASH_SEGMENT_BYTES = 1024 * 1024;

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
  /**
   * Fed with the body's plain bytes in order, a segment at a time as a chunk buffer fills (the
   * body's MD5, and each chunk's name unless chunks are encrypted). The chunk buffers come from
   * it, and one is refilled only once both its write and its hashes are done.
   */
  readonly hashes?: UploadHashes;
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
  const { store, chunkSizeBytes, maxSizeBytes, budget, hashes } = options;
  const allocate = (sizeBytes: number) => (hashes ? hashes.allocate(sizeBytes) : Buffer.allocUnsafe(sizeBytes));
  // An encrypted chunk is named by its ciphertext, which only exists once the chunk is whole.
  const hashesNameChunks = hashes !== undefined && !options.encrypt;
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
  /** Of the filling buffer: how many bytes went to the hashes, and their updates still running. */
  let hashedBytes = 0;
  let hashing: Promise<void>[] = [];

  const hashUpTo = (endBytes: number) => {
    if (!hashes || !buffer || endBytes === hashedBytes) return;
    const update = hashes.update(buffer.subarray(hashedBytes, endBytes), hashesNameChunks);
    // Observed when the buffer is written or given up; not unhandled meanwhile.
    update.catch(() => undefined);
    hashing.push(update);
    hashedBytes = endBytes;
  };
  /** Settles once no update reads the filling buffer any more; fails with the first failure. */
  const bufferHashed = () => {
    const updates = hashing;
    hashing = [];
    hashedBytes = 0;
    return Promise.allSettled(updates).then(rethrowFirstFailure);
  };

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
    hashUpTo(filledBytes);
    const name = hashesNameChunks ? hashes.endChunk() : undefined;
    const hashed = hashes ? bufferHashed() : undefined;
    const sealed = options.encrypt?.(plain);
    const chunk = { offsetBytes: totalBytes - filledBytes, sizeBytes: filledBytes, ...(sealed ? { iv: sealed.iv } : {}) };
    const bytes = sealed ? sealed.bytes : plain;
    const written = (name ? name.then((known) => store.write(bytes, known)) : store.write(bytes)).then((hash) => {
      chunks.push({ hash, ...chunk });
    });
    // Settled only once neither reads the buffer any more, whichever failed first.
    const done = hashed ? Promise.allSettled([written, hashed]).then(rethrowFirstFailure) : written;
    filledBytes = 0;
    if (!hasSecondBuffer) {
      const release = budget.tryAcquire(bufferBytes);
      if (release) {
        releases.push(release);
        hasSecondBuffer = true;
        spareBuffers.push(allocate(bufferBytes));
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
        buffer ??= allocate(bufferBytes);
        const taken = Math.min(piece.length - offset, bufferBytes - filledBytes);
        piece.copy(buffer, filledBytes, offset, offset + taken);
        filledBytes += taken;
        totalBytes += taken;
        offset += taken;
        if (filledBytes - hashedBytes >= HASH_SEGMENT_BYTES) hashUpTo(filledBytes);
      }
    }
    if (buffer && chunks.length === 0 && !writing && filledBytes > 0 && filledBytes <= inlineMaxBytes) {
      const plain = buffer.subarray(0, filledBytes);
      // Only the MD5 counts here: an inline body is named below, by its bytes as stored.
      if (hashes) await hashes.update(plain.subarray(hashedBytes), false);
      await bufferHashed();
      const sealed = options.encrypt?.(plain);
      const bytes = sealed ? sealed.bytes : plain;
      chunks.push({ hash: contentHashOf(bytes), offsetBytes: 0, sizeBytes: filledBytes, inline: bytes.toString('base64'), ...(sealed ? { iv: sealed.iv } : {}) });
    } else {
      await flush();
      await finishWriting();
    }
  } finally {
    // A write or hash still running holds its buffer: the budget is given back only once they have settled.
    await writing?.done.catch(() => undefined);
    await bufferHashed().catch(() => undefined);
    for (const release of releases) release();
  }
  return { sizeBytes: totalBytes, chunks };
}

function rethrowFirstFailure(outcomes: readonly PromiseSettledResult<unknown>[]): void {
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}
