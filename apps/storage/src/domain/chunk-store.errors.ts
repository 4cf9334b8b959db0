import { CairnError } from '@cairn/protocol';
import type { ContentHash } from '@cairn/hashing';

export const StorageErrorCodes = {
  HashMismatch: 'CHUNK_HASH_MISMATCH',
  ChunkTooLarge: 'CHUNK_TOO_LARGE',
  ChunkCorrupt: 'CHUNK_CORRUPT',
  NoSuchChunk: 'NO_SUCH_CHUNK',
  InvalidHash: 'INVALID_CHUNK_HASH',
  FencingTokenStale: 'FENCING_TOKEN_STALE',
  FencingTokenMissing: 'FENCING_TOKEN_MISSING',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  BodyAborted: 'BODY_ABORTED',
} as const;

export class ChunkHashMismatchError extends CairnError {
  constructor(expected: ContentHash, actual: string, sizeBytes: number) {
    super(StorageErrorCodes.HashMismatch, `body of ${sizeBytes} bytes hashes to ${actual}, not ${expected}`, { expected, actual, sizeBytes });
  }
}

export class ChunkTooLargeError extends CairnError {
  constructor(limitBytes: number) {
    super(StorageErrorCodes.ChunkTooLarge, `chunk exceeds the limit of ${limitBytes} bytes`, { limitBytes });
  }
}

export class ChunkCorruptError extends CairnError {
  constructor(hash: ContentHash, detail: string) {
    super(StorageErrorCodes.ChunkCorrupt, `chunk ${hash} is corrupt on disk: ${detail}`, { hash });
  }
}

export class BodyAbortedError extends CairnError {
  constructor(cause: unknown) {
    super(StorageErrorCodes.BodyAborted, `the body ended before it was complete: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export class StaleFencingTokenError extends CairnError {
  constructor(token: number, highestSeen: number) {
    super(StorageErrorCodes.FencingTokenStale, `fencing token ${token} is older than ${highestSeen}, the newest this node has seen`, { token, highestSeen });
  }
}
