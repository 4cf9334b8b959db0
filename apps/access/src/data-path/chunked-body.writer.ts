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
}

export interface StoredBody {
  readonly sizeBytes: number;
  readonly chunks: readonly ChunkRef[];
}

/**
 * Chunk writes that may be in flight while the body goes on being received into another buffer:
 * receiving chunk N+1 overlaps storing chunk N.
 */
export const WRITE_AHEAD_CHUNKS = 1;

/** A full buffer on its way to the store, with the reservation its bytes are held under. */
interface ChunkWrite {
  readonly buffer: Buffer;
  readonly release: () => void;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  readonly hash: Promise<string>;
}

/**
 * Cuts a body into fixed-size chunks as it streams and stores each one, so a request holds a
 * bounded number of chunk buffers (taken from the gateway's memory budget) whatever the object
 * size. While a full chunk is being stored, the next one is received into a second buffer if the
 * budget has room for it at once (never waiting in the budget's queue for it); otherwise, and
 * once `WRITE_AHEAD_CHUNKS` writes are in flight, the source is paused (backpressure) until the
 * oldest write is done and its buffer is reused. Chunk references come out in body order. A full
 * buffer is written only once more bytes arrive, so a body that ends within the inline limit is
 * never sent to storage nodes. Nothing is committed here: the caller commits the chunk list to
 * metadata only once the whole body has been received and verified; on any failure every write
 * still in flight is waited for (its buffer is not released while the store may read it) and no
 * chunk list is returned.
 */
export async function storeChunkedBody(source: AsyncIterable<Buffer>, options: ChunkedBodyOptions): Promise<StoredBody> {
  const { store, chunkSizeBytes, maxSizeBytes, budget } = options;
  const inlineMaxBytes = Math.min(options.inlineMaxBytes ?? 0, chunkSizeBytes);
  // A body longer than announced fills the small buffer and is cut there; its length check fails later.
  const bufferBytes = Math.max(1, Math.min(chunkSizeBytes, options.sizeHintBytes ?? chunkSizeBytes));
  // Taken before the source is read: a copy (which reads chunks under the read budget) then
  // always holds write before read, and the two budgets can never wait on each other in a cycle.
  // A second buffer is only ever taken without waiting, so that order still holds.
  let release: () => void = await budget.acquire(bufferBytes);
  let buffer: Buffer | undefined;
  let filledBytes = 0;
  let totalBytes = 0;
  const chunks: ChunkRef[] = [];
  const inFlight: ChunkWrite[] = [];

  /** Waits for the oldest write and records its chunk; returns its buffer and reservation. */
  const settleOldest = async (): Promise<ChunkWrite> => {
    const done = inFlight[0];
    const hash = await done.hash;
    inFlight.shift();
    chunks.push({ hash, offsetBytes: done.offsetBytes, sizeBytes: done.sizeBytes });
    return done;
  };

  /** Sends the filled buffer on its way and makes a buffer ready for the next bytes. */
  const startWrite = async (): Promise<void> => {
    if (!buffer || filledBytes === 0) return;
    const hash = store.write(buffer.subarray(0, filledBytes));
    // Its failure is reported when it is settled; until then it must not go unhandled.
    hash.catch(() => undefined);
    inFlight.push({ buffer, release, offsetBytes: totalBytes - filledBytes, sizeBytes: filledBytes, hash });
    filledBytes = 0;
    const spare = inFlight.length <= WRITE_AHEAD_CHUNKS ? budget.tryAcquire(bufferBytes) : null;
    if (spare) {
      release = spare;
      buffer = undefined;
    } else {
      ({ buffer, release } = await settleOldest());
    }
  };

  let stored = false;
  try {
    for await (const piece of source) {
      if (totalBytes + piece.length > maxSizeBytes) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(maxSizeBytes) });
      let offset = 0;
      while (offset < piece.length) {
        if (filledBytes === bufferBytes) await startWrite();
        buffer ??= Buffer.allocUnsafe(bufferBytes);
        const taken = Math.min(piece.length - offset, bufferBytes - filledBytes);
        piece.copy(buffer, filledBytes, offset, offset + taken);
        filledBytes += taken;
        totalBytes += taken;
        offset += taken;
      }
    }
    if (buffer && chunks.length === 0 && inFlight.length === 0 && filledBytes > 0 && filledBytes <= inlineMaxBytes) {
      const bytes = buffer.subarray(0, filledBytes);
      chunks.push({ hash: contentHashOf(bytes), offsetBytes: 0, sizeBytes: filledBytes, inline: bytes.toString('base64') });
    } else if (buffer && filledBytes > 0) {
      const hash = await store.write(buffer.subarray(0, filledBytes));
      // Written after every earlier chunk was settled below, its reference goes last.
      while (inFlight.length > 0) (await settleOldest()).release();
      chunks.push({ hash, offsetBytes: totalBytes - filledBytes, sizeBytes: filledBytes });
    }
    while (inFlight.length > 0) (await settleOldest()).release();
    stored = true;
  } finally {
    if (!stored) {
      // The store may still be reading these buffers: their reservations wait for the writes.
      await Promise.allSettled(inFlight.map((w) => w.hash));
      for (const w of inFlight.splice(0)) w.release();
    }
    release();
  }
  return { sizeBytes: totalBytes, chunks };
}
