import type { MetadataRpcClient } from '../adapters/metadata-rpc.client';
import type { UserDirectory } from '../adapters/user-directory';
import type { ChunkStore } from '../data-path/chunk-store.port';
import type { MemoryBudget } from '../data-path/memory-budget';
import type { ReadSlabs } from '../data-path/read-slabs';
import type { UploadHashes } from '../data-path/upload-hashes';
import type { ObjectKeys } from '../encryption/object-keys';

/** What the operation handlers work with. */
export interface GatewayDeps {
  readonly metadata: MetadataRpcClient;
  /** Users by canonical id and email: ACL grants and display names. */
  readonly users: UserDirectory;
  readonly chunks: ChunkStore;
  readonly chunkSizeBytes: number;
  /** Bodies up to this size are kept inline in metadata rather than on storage nodes. */
  readonly inlineObjectMaxBytes: number;
  /** Chunk buffers of uploads (PutObject, UploadPart, the write side of UploadPartCopy). */
  readonly writeBudget: MemoryBudget;
  /** Chunks held while being verified and served (GetObject, the read side of UploadPartCopy). */
  readonly readBudget: MemoryBudget;
  /** Reused buffers whole chunks of a GetObject are received into; absent: a chunk is received fresh. */
  readonly readSlabs?: ReadSlabs;
  /** The hashes of a large upload body (its MD5, its chunks' names) on a worker thread; absent: on the main thread. */
  readonly uploadHashes?: () => UploadHashes;
  /** The S3 region clients sign for (GetBucketLocation, x-amz-bucket-region). */
  readonly s3Region: string;
  readonly nowMs: () => number;
  /** Data keys of encrypted versions (docs/encryption.md). */
  readonly objectKeys: ObjectKeys;
}
