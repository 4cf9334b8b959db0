/** What ChunksModule needs from the app: where the data lives and its write-path tuning. */
export interface StorageChunksConfig {
  readonly dataDir: string;
  readonly smallChunkThresholdBytes?: number;
  readonly maxChunkSizeBytes?: number;
  readonly groupCommitWindowMs?: number;
  readonly groupCommitMaxBytes?: number;
  /** Free bytes the node keeps: below them it refuses new chunks (storage-reserve.ts); 0 turns this off. */
  readonly reserveBytes?: number;
}

export const STORAGE_CONFIG = Symbol('STORAGE_CONFIG');
export const FENCING_TOKEN_STORE = Symbol('FENCING_TOKEN_STORE');
export const CORRUPT_CHUNK_REPORTER = Symbol('CORRUPT_CHUNK_REPORTER');
