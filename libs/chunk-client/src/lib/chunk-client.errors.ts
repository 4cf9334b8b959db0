import { CairnError } from '@cairn/protocol';
import type { ContentHash } from '@cairn/hashing';

export const ChunkClientErrorCodes = {
  WriteQuorumNotReached: 'WRITE_QUORUM_NOT_REACHED',
  ChunkUnavailable: 'CHUNK_UNAVAILABLE',
  ChunkHashMismatch: 'CHUNK_HASH_MISMATCH',
  ChunkTooLargeToBuffer: 'CHUNK_TOO_LARGE_TO_BUFFER',
  TooFewStorageNodes: 'TOO_FEW_STORAGE_NODES',
} as const;

/** The ring has fewer members than the replication factor asks for: the write is refused, not weakened. */
export class TooFewStorageNodesError extends CairnError {
  constructor(
    readonly replicationFactor: number,
    readonly members: number,
  ) {
    super(ChunkClientErrorCodes.TooFewStorageNodes, `replication factor ${replicationFactor} needs as many storage nodes; the ring has ${members}`, {
      replicationFactor,
      members,
    });
  }
}

export interface ReplicaFailure {
  readonly nodeId: string;
  readonly address: string;
  readonly reason: string;
}

export class WriteQuorumNotReachedError extends CairnError {
  constructor(
    readonly hash: ContentHash,
    readonly writeQuorum: number,
    readonly stored: readonly string[],
    readonly failures: readonly ReplicaFailure[],
  ) {
    super(
      ChunkClientErrorCodes.WriteQuorumNotReached,
      `chunk ${hash} stored on ${stored.length} of the ${writeQuorum} replicas required; ` +
        failures.map((f) => `${f.nodeId} (${f.address}): ${f.reason}`).join('; '),
      { hash, writeQuorum, stored, failures },
    );
  }
}

export class ChunkUnavailableError extends CairnError {
  constructor(
    readonly hash: ContentHash,
    readonly failures: readonly ReplicaFailure[],
  ) {
    super(ChunkClientErrorCodes.ChunkUnavailable, `no replica served chunk ${hash}: ${failures.map((f) => `${f.nodeId}: ${f.reason}`).join('; ')}`, {
      hash,
      failures,
    });
  }
}

export class ClientHashMismatchError extends CairnError {
  constructor(expected: ContentHash, actual: string) {
    super(ChunkClientErrorCodes.ChunkHashMismatch, `bytes hash to ${actual}, not ${expected}`, { expected, actual });
  }
}

export class ChunkTooLargeToBufferError extends CairnError {
  constructor(limitBytes: number) {
    super(
      ChunkClientErrorCodes.ChunkTooLargeToBuffer,
      `a stream without a known hash is buffered to hash it first, up to ${limitBytes} bytes; pass its hash to stream a larger chunk`,
      { limitBytes },
    );
  }
}

/** One line for an error from a node or a socket: its code, its cause's code, its message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    const cause = (error as { cause?: unknown }).cause;
    const causeCode = cause instanceof Error ? (cause as { code?: string }).code : undefined;
    return [code, causeCode, error.message].filter(Boolean).join(' ');
  }
  return String(error);
}
