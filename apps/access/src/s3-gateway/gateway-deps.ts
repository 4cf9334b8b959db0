import type { MetadataRpcClient } from '../adapters/metadata-rpc.client';
import type { ChunkStore } from '../data-path/chunk-store.port';

/** What the operation handlers work with. */
export interface GatewayDeps {
  readonly metadata: MetadataRpcClient;
  readonly chunks: ChunkStore;
  readonly chunkSizeBytes: number;
  /** The S3 region clients sign for (GetBucketLocation, x-amz-bucket-region). */
  readonly s3Region: string;
  readonly nowMs: () => number;
}
