import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Bytes a generated body is produced in. */
export const GENERATED_PIECE_BYTES = 64 * 1024;

/**
 * A body of `sizeBytes` generated from `seed` as it is read (xorshift32), never held whole: the
 * same seed and size give the same bytes, so a reader can check what it got against expectedSha256.
 */
export function generatedBody(seed: number, sizeBytes: number): Readable {
  return Readable.from(pieces(seed, sizeBytes), { objectMode: false });
}

/** The SHA-256 hex of generatedBody(seed, sizeBytes), computed by generating it again. */
export function expectedSha256(seed: number, sizeBytes: number, start = 0, endExclusive = sizeBytes): string {
  const hash = createHash('sha256');
  let offset = 0;
  for (const piece of pieces(seed, sizeBytes)) {
    const from = Math.max(start, offset);
    const to = Math.min(endExclusive, offset + piece.length);
    if (to > from) hash.update(piece.subarray(from - offset, to - offset));
    offset += piece.length;
    if (offset >= endExclusive) break;
  }
  return hash.digest('hex');
}

/** The SHA-256 hex and length of a stream, read piece by piece. */
export async function sha256OfStream(stream: AsyncIterable<Uint8Array>): Promise<{ readonly sha256: string; readonly sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const piece of stream) {
    hash.update(piece);
    sizeBytes += piece.length;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

function* pieces(seed: number, sizeBytes: number): Generator<Buffer> {
  let state = seed >>> 0 || 0x9e3779b9;
  for (let offset = 0; offset < sizeBytes; offset += GENERATED_PIECE_BYTES) {
    const length = Math.min(GENERATED_PIECE_BYTES, sizeBytes - offset);
    const piece = Buffer.allocUnsafe(length);
    let i = 0;
    for (; i + 4 <= length; i += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      piece.writeUInt32LE(state >>> 0, i);
    }
    for (; i < length; i++) piece[i] = (state >>> (8 * (i % 4))) & 0xff;
    yield piece;
  }
}
