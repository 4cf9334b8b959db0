import { contentHashOf } from '@cairn/hashing';
import { isInlineChunk, type ChunkRef } from '@cairn/protocol';
import { S3Error } from '../s3';
import type { ChunkStore } from './chunk-store.port';
import type { MemoryBudget } from './memory-budget';

/**
 * The bytes `[start, endExclusive)` of an object, read chunk by chunk: only the chunks the range
 * touches are fetched, one at a time, and a whole chunk is verified against its hash by the store.
 * The store may hold a chunk whole to verify it, so its size is taken from the read budget until
 * the chunk has been passed on. Inline chunks come from the reference itself, verified the same way.
 */
export async function* readChunkedBody(
  store: ChunkStore,
  chunks: readonly ChunkRef[],
  start: number,
  endExclusive: number,
  budget: MemoryBudget,
): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    const chunkEnd = chunk.offsetBytes + chunk.sizeBytes;
    if (chunkEnd <= start || chunk.offsetBytes >= endExclusive || chunk.sizeBytes === 0) continue;
    const from = Math.max(start, chunk.offsetBytes) - chunk.offsetBytes;
    const to = Math.min(endExclusive, chunkEnd) - chunk.offsetBytes;
    const whole = from === 0 && to === chunk.sizeBytes;
    if (isInlineChunk(chunk)) {
      yield verifiedInlineBytes(chunk).subarray(from, to);
      continue;
    }
    const release = await budget.acquire(to - from);
    try {
      const stream = await store.read(chunk.hash, whole ? undefined : { start: from, end: to });
      for await (const piece of stream) yield piece as Buffer;
    } finally {
      release();
    }
  }
}

function verifiedInlineBytes(chunk: ChunkRef & { readonly inline: string }): Buffer {
  const bytes = Buffer.from(chunk.inline, 'base64');
  if (bytes.length !== chunk.sizeBytes || contentHashOf(bytes) !== chunk.hash) {
    throw new S3Error('InternalError', `the inline bytes of chunk ${chunk.hash} do not match their hash`);
  }
  return bytes;
}
