import { Injectable, Logger } from '@nestjs/common';
import { RpcClient } from '@cairn/messaging';
import {
  CairnError,
  METADATA_SERVICE,
  MetadataErrorCodes,
  MetadataRpc,
  type BucketView,
  type CommandReply,
  type DeleteObjectRequest,
  type ListBucketsReply,
  type ListLifecycleVersionsReply,
  type ListLifecycleVersionsRequest,
  type ListUploadsReply,
  type ListUploadsRequest,
  type ProjectionStatusReply,
} from '@cairn/protocol';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import { waitForMetaProjection } from '../adapters/meta-projection-wait';

/** What the lifecycle pass reads from and asks of metadata: its ordinary queries and commands over NATS. */
@Injectable()
export class LifecycleMetadata {
  private readonly logger = new Logger(LifecycleMetadata.name);

  constructor(private readonly rpc: RpcClient) {}

  /**
   * The META sequence of everything written before this call, once metadata's listings show it:
   * a pass that starts right after a burst of writes judges those writes too, however far the
   * projection is behind (it waits while the projection moves).
   */
  async caughtUpCut(signal: AbortSignal): Promise<number> {
    const status = await this.request<ProjectionStatusReply>(MetadataRpc.projectionStatus, {});
    const cut = status.streams.find((s) => s.stream === 'META')?.lastSequence ?? 0;
    await waitForMetaProjection(this.rpc, cut, signal, this.logger);
    return cut;
  }

  private request<T>(pattern: string, payload: unknown): Promise<T> {
    return this.rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
  }

  async bucketNames(): Promise<string[]> {
    const reply = await this.request<ListBucketsReply>(MetadataRpc.listBuckets, {});
    return reply.buckets.map((b) => b.name);
  }

  /** The bucket with its lifecycle configuration; null when it is gone. */
  async bucket(name: string): Promise<BucketView | null> {
    try {
      return await this.request<BucketView>(MetadataRpc.getBucket, { bucket: name });
    } catch (error) {
      if (error instanceof CairnError && error.code === MetadataErrorCodes.NoSuchBucket) return null;
      throw error;
    }
  }

  versions(bucket: string, afterKeyId: string | null, limit: number, minSequence: number): Promise<ListLifecycleVersionsReply> {
    const request: ListLifecycleVersionsRequest = { bucket, limit, ...(afterKeyId !== null ? { afterKeyId } : {}), ...(minSequence > 0 ? { minSequence } : {}) };
    return this.request(MetadataRpc.listLifecycleVersions, request);
  }

  uploads(bucket: string, marker: { keyMarker: string; uploadIdMarker: string } | null, maxUploads: number, minSequence: number): Promise<ListUploadsReply> {
    const request: ListUploadsRequest = { bucket, maxUploads, ...(marker ?? {}), ...(minSequence > 0 ? { minSequence } : {}) };
    return this.request(MetadataRpc.listUploads, request);
  }

  /** The META sequence the removal was appended at. */
  async deleteObject(request: DeleteObjectRequest): Promise<number> {
    return (await this.request<CommandReply>(MetadataRpc.deleteObject, request)).sequence;
  }

  async abortUpload(bucket: string, uploadId: string): Promise<number> {
    return (await this.request<CommandReply>(MetadataRpc.abortUpload, { bucket, uploadId })).sequence;
  }
}
