import { createHash, type Hash } from 'node:crypto';

declare const contentHashBrand: unique symbol;

/** The name of a chunk: the lowercase hex SHA-256 of its bytes. */
export type ContentHash = string & { readonly [contentHashBrand]: true };

export const CONTENT_HASH_LENGTH_CHARS = 64;
const CONTENT_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** The hash of zero bytes, which is a valid (empty) chunk. */
export const EMPTY_CONTENT_HASH = createHash('sha256').digest('hex') as ContentHash;

export class InvalidContentHashError extends Error {
  readonly code = 'INVALID_CONTENT_HASH';
  constructor(readonly input: string) {
    super(`"${input.length > 80 ? `${input.slice(0, 80)}…` : input}" is not a lowercase hex SHA-256`);
    this.name = 'InvalidContentHashError';
  }
}

export function isContentHash(value: unknown): value is ContentHash {
  return typeof value === 'string' && CONTENT_HASH_PATTERN.test(value);
}

/** Accepts exactly 64 lowercase hex characters; anything else throws. */
export function parseContentHash(value: string): ContentHash {
  if (!isContentHash(value)) throw new InvalidContentHashError(value);
  return value;
}

export function contentHashOf(bytes: Uint8Array | string): ContentHash {
  return createHash('sha256').update(bytes).digest('hex') as ContentHash;
}

/**
 * An incremental SHA-256: feed it bytes as they flow and ask for the hash at the end. It also
 * counts bytes, since every caller that hashes a stream wants its length too.
 */
export class ContentHasher {
  private readonly hash: Hash = createHash('sha256');
  private finished: ContentHash | null = null;
  private byteCount = 0;

  update(bytes: Uint8Array): this {
    if (this.finished !== null) throw new Error('ContentHasher.update after digest');
    this.hash.update(bytes);
    this.byteCount += bytes.byteLength;
    return this;
  }

  get bytesHashed(): number {
    return this.byteCount;
  }

  /** Idempotent: the first call finalises, later calls return the same hash. */
  digest(): ContentHash {
    if (this.finished === null) this.finished = this.hash.digest('hex') as ContentHash;
    return this.finished;
  }
}

export async function contentHashOfStream(source: AsyncIterable<Uint8Array>): Promise<{ hash: ContentHash; sizeBytes: number }> {
  const hasher = new ContentHasher();
  for await (const chunk of source) hasher.update(chunk);
  return { hash: hasher.digest(), sizeBytes: hasher.bytesHashed };
}
