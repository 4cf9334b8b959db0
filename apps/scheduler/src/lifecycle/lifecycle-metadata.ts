import { Injectable } from '@nestjs/common';
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
} from '@cairn/protocol';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';

/** What the lifecycle pass reads from and asks of metadata: its ordinary queries and commands over NATS. */
@Injectable()
export class LifecycleMetadata {
  constructor(private readonly rpc: RpcClient) {}

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
