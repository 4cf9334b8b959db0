/** What ChunksModule needs from the app: where the data lives and its write-path tuning. */
export interface StorageChunksConfig {
  readonly dataDir: string;
  readonly smallChunkThresholdBytes?: number;
  readonly maxChunkSizeBytes?: number;
  readonly groupCommitWindowMs?: number;
  readonly groupCommitMaxBytes?: number;
}

export const STORAGE_CONFIG = Symbol('STORAGE_CONFIG');
export const FENCING_TOKEN_STORE = Symbol('FENCING_TOKEN_STORE');
export const CORRUPT_CHUNK_REPORTER = Symbol('CORRUPT_CHUNK_REPORTER');
