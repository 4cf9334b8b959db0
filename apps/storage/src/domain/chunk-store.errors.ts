import { CairnError, StorageErrorCodes } from '@cairn/protocol';
import type { ContentHash } from '@cairn/hashing';

/** The codes are part of the data-plane contract; re-exported for the node's own imports. */
export { StorageErrorCodes };

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
  constructor(resource: string, token: number, highestSeen: number) {
    super(StorageErrorCodes.FencingTokenStale, `fencing token ${token} of ${resource} is older than ${highestSeen}, the newest this node has seen for it`, {
      resource,
      token,
      highestSeen,
    });
  }
}

export class FencingResourcesExhaustedError extends CairnError {
  constructor(resource: string, limit: number) {
    super(StorageErrorCodes.FencingResourcesExhausted, `this node keeps fencing tokens for ${limit} resources already and takes no new one (${resource})`, { resource, limit });
  }
}

export class StorageFullError extends CairnError {
  private constructor(message: string, details: Record<string, unknown>) {
    super(StorageErrorCodes.StorageFull, `${message}: it takes no new chunk until space is freed`, details);
  }

  static belowReserve(freeBytes: number, reserveBytes: number, incomingBytes: number | null): StorageFullError {
    const asked = incomingBytes === null ? '' : ` (asked to store ${incomingBytes})`;
    return new StorageFullError(`this node's disk has ${freeBytes} bytes free and keeps ${reserveBytes} in reserve${asked}`, {
      freeBytes,
      reserveBytes,
      ...(incomingBytes === null ? {} : { incomingBytes }),
    });
  }

  static outOfSpace(cause: string): StorageFullError {
    return new StorageFullError(`this node's disk is out of space (${cause})`, {});
  }
}

/** A write the filesystem refused for want of space (ENOSPC, EDQUOT) reads as STORAGE_FULL, not as an internal error. */
export function storageFullIfOutOfSpace(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? StorageFullError.outOfSpace(String(code)) : error;
}
