import type { Readable } from 'node:stream';
import { contentHashOf } from '@cairn/hashing';
import { isInlineChunk, type ChunkRef } from '@cairn/protocol';
import { S3Error } from '../s3';
import type { ChunkStore } from './chunk-store.port';
import { decryptChunkBytes, decryptingStream } from '../encryption/chunk-cipher';
import { readChunkRef } from './storage-class.store';
import type { MemoryBudget } from './memory-budget';
import type { ReadSlabs } from './read-slabs';

/**
 * Chunks fetched ahead of the one being passed on. One is enough to keep the storage node busy
 * with the next chunk while this one goes out to the client; each takes its own read budget.
 */
export const READ_AHEAD_CHUNKS = 1;

/** The part `[from, to)` of one chunk that a read touches. */
interface ChunkSlice {
  readonly chunk: ChunkRef;
  readonly from: number;
  readonly to: number;
}

/** A slice being fetched (or fetched): its bytes and the budget reservation they hold. */
interface OpenedSlice {
  readonly stream: Readable | null;
  readonly inline: Buffer | null;
  readonly release: () => void;
  /** The reused buffer the chunk was received into, if any: `stream` yields a view of it. */
  readonly slab: Buffer | null;
}

/**
 * The bytes `[start, endExclusive)` of an object, read chunk by chunk: only the chunks the range
 * touches are fetched, in order, and a whole chunk is verified against its hash by the store.
 * The store may hold a chunk whole to verify it, so its size is taken from the read budget until
 * the chunk has been passed on. While one chunk is passed on, up to `readAheadChunks` next ones
 * are fetched, each only if its budget is free at once (a read-ahead never waits in the budget's
 * queue, so it never delays another request's first chunk); a read-ahead that is not consumed
 * (the caller stopped, or a chunk before it failed) is dropped and gives its budget back.
 * Inline chunks come from the reference itself, verified the same way.
 *
 * With `slabs`, whole unencrypted chunks of the slabs' size are received into reused buffers, so
 * the caller must be done with each piece it is given (written out, not just queued) before it
 * asks for the next one. A slab goes back for reuse only then; one whose bytes were handed over
 * when the caller stopped, or whose read failed, is left to the collector.
 */
export async function* readChunkedBody(
  store: ChunkStore,
  chunks: readonly ChunkRef[],
  start: number,
  endExclusive: number,
  budget: MemoryBudget,
  readAheadChunks: number = READ_AHEAD_CHUNKS,
  /** The version's data key when its chunks are encrypted (ChunkRef.iv): each slice is decrypted as it passes. */
  dataKey?: Buffer,
  slabs?: ReadSlabs,
): AsyncGenerator<Buffer> {
  const slices = slicesOf(chunks, start, endExclusive);
  const ahead: Promise<OpenedSlice>[] = [];
  let next = 0;
  try {
    while (ahead.length > 0 || next < slices.length) {
      let current = ahead.shift();
      if (!current) {
        const slice = slices[next++];
        current = openSlice(store, slice, await reserve(budget, slice), dataKey, slabs);
      }
      while (ahead.length < readAheadChunks && next < slices.length) {
        const release = sliceBytes(slices[next]) === 0 ? NOTHING_TO_RELEASE : budget.tryAcquire(sliceBytes(slices[next]));
        if (!release) break;
        const opened = openSlice(store, slices[next++], release, dataKey, slabs);
        // Its failure is reported when it becomes current; until then it must not go unhandled.
        opened.catch(() => undefined);
        ahead.push(opened);
      }
      const { stream, inline, release, slab } = await current;
      try {
        if (inline) yield inline;
        else if (stream) for await (const piece of stream) yield piece as Buffer;
        // Reached only when the caller asked past the slab's last piece: it is done with it.
        if (slab) slabs?.giveBack(slab);
      } finally {
        release();
      }
    }
  } finally {
    for (const dropped of ahead) void dropped.then(discard, () => undefined);
  }
}

function slicesOf(chunks: readonly ChunkRef[], start: number, endExclusive: number): ChunkSlice[] {
  const slices: ChunkSlice[] = [];
  for (const chunk of chunks) {
    const chunkEnd = chunk.offsetBytes + chunk.sizeBytes;
    if (chunkEnd <= start || chunk.offsetBytes >= endExclusive || chunk.sizeBytes === 0) continue;
    const from = Math.max(start, chunk.offsetBytes) - chunk.offsetBytes;
    const to = Math.min(endExclusive, chunkEnd) - chunk.offsetBytes;
    slices.push({ chunk, from, to });
  }
  return slices;
}

/** Inline bytes take no read budget: they are in the chunk reference already. */
function sliceBytes(slice: ChunkSlice): number {
  return isInlineChunk(slice.chunk) ? 0 : slice.to - slice.from;
}

const NOTHING_TO_RELEASE = (): void => undefined;

function reserve(budget: MemoryBudget, slice: ChunkSlice): Promise<() => void> | (() => void) {
  const bytes = sliceBytes(slice);
  return bytes === 0 ? NOTHING_TO_RELEASE : budget.acquire(bytes);
}

/** Starts fetching a slice under `release`'s reservation; gives it back itself if the fetch fails. */
async function openSlice(store: ChunkStore, slice: ChunkSlice, release: () => void, dataKey?: Buffer, slabs?: ReadSlabs): Promise<OpenedSlice> {
  const { chunk, from, to } = slice;
  let slab: Buffer | null = null;
  try {
    const iv = chunk.iv;
    if (iv !== undefined && dataKey === undefined) throw new S3Error('InternalError', `chunk ${chunk.hash} is encrypted and no data key was given`);
    if (isInlineChunk(chunk)) {
      const stored = verifiedInlineBytes(chunk).subarray(from, to);
      return { stream: null, inline: iv !== undefined && dataKey ? decryptChunkBytes(dataKey, iv, from, stored) : stored, release, slab: null };
    }
    const whole = from === 0 && to === chunk.sizeBytes;
    if (whole && iv === undefined) slab = slabs?.take(chunk.sizeBytes) ?? null;
    const stored = await readChunkRef(store, chunk, whole ? undefined : { start: from, end: to }, slab ?? undefined);
    return { stream: decrypted(stored, iv, dataKey, from), inline: null, release, slab };
  } catch (error) {
    release();
    throw error;
  }
}

/** An encrypted chunk's stored bytes decrypted as they pass (from byte `from` of the chunk); others as they are. */
function decrypted(stored: Readable, iv: string | undefined, dataKey: Buffer | undefined, from: number): Readable {
  if (iv === undefined || !dataKey) return stored;
  const stream = decryptingStream(dataKey, iv, from);
  stored.on('error', (error) => stream.destroy(error));
  stream.on('close', () => stored.destroy());
  return stored.pipe(stream);
}

function discard(opened: OpenedSlice): void {
  opened.stream?.destroy();
  opened.release();
}

/** An inline chunk's bytes, checked against the chunk's hash (metadata is trusted with them, not blindly). */
export function verifiedInlineBytes(chunk: ChunkRef & { readonly inline: string }): Buffer {
  const bytes = Buffer.from(chunk.inline, 'base64');
  if (bytes.length !== chunk.sizeBytes || contentHashOf(bytes) !== chunk.hash) {
    throw new S3Error('InternalError', `the inline bytes of chunk ${chunk.hash} do not match their hash`);
  }
  return bytes;
}
