import type { RpcClient } from '@cairn/messaging';
import {
  METADATA_SERVICE,
  MetadataRpc,
  type AbortUploadReply,
  type AbortUploadRequest,
  type CommandReply,
  type CompleteUploadReply,
  type CompleteUploadRequest,
  type CopyObjectReply,
  type CopyObjectRequest,
  type CreateBucketReply,
  type CreateBucketRequest,
  type DeleteBucketReply,
  type DeleteBucketRequest,
  type DeleteObjectReply,
  type DeleteObjectRequest,
  type DeleteObjectTagsRequest,
  type GetAccessKeyReply,
  type GetBucketReply,
  type HeadObjectReply,
  type InitiateUploadReply,
  type InitiateUploadRequest,
  type ListBucketsReply,
  type ListNodesReply,
  type ListObjectVersionsReply,
  type ListObjectVersionsRequest,
  type ListObjectsReply,
  type ListObjectsRequest,
  type ListObjectsV2Reply,
  type ListObjectsV2Request,
  type ListPartsReply,
  type ListPartsRequest,
  type ListUploadsReply,
  type ListUploadsRequest,
  type MetadataRpcPattern,
  type ObjectTagsReply,
  type PutObjectReply,
  type PutObjectRequest,
  type PutObjectTagsRequest,
  type RingEpochReply,
  type SetBucketVersioningReply,
  type SetBucketVersioningRequest,
  type UploadPartReply,
  type UploadPartRequest,
} from '@cairn/protocol';

/** Commands may wait on optimistic-concurrency retries inside metadata; queries on read-your-writes. */
export const METADATA_COMMAND_TIMEOUT_MS = 15_000;
export const METADATA_QUERY_TIMEOUT_MS = 8_000;

type Query<R> = Omit<R, 'minSequence'>;

/**
 * The metadata service as access sees it, over NATS request/reply. It remembers the highest META
 * sequence any command through this gateway was appended at and reads with it as `minSequence`,
 * so every read after an acknowledged write (from any client of this gateway) sees that write.
 */
export class MetadataRpcClient {
  private metaSequence = 0;
  private clusterSequence = 0;

  constructor(private readonly rpc: RpcClient) {}

  /** The read-your-writes point reached so far, for tests and diagnostics. */
  get readSequence(): number {
    return this.metaSequence;
  }

  createBucket = (request: CreateBucketRequest) => this.command<CreateBucketReply>(MetadataRpc.createBucket, request);
  deleteBucket = (request: DeleteBucketRequest) => this.command<DeleteBucketReply>(MetadataRpc.deleteBucket, request);
  setBucketVersioning = (request: SetBucketVersioningRequest) => this.command<SetBucketVersioningReply>(MetadataRpc.setBucketVersioning, request);
  getBucket = (request: Query<{ bucket: string }>) => this.query<GetBucketReply>(MetadataRpc.getBucket, request);
  listBuckets = (request: { owner?: string }) => this.query<ListBucketsReply>(MetadataRpc.listBuckets, request);

  putObject = (request: PutObjectRequest) => this.command<PutObjectReply>(MetadataRpc.putObject, request);
  copyObject = (request: CopyObjectRequest) => this.command<CopyObjectReply>(MetadataRpc.copyObject, { sourceMinSequence: this.metaSequence, ...request });
  deleteObject = (request: DeleteObjectRequest) => this.command<DeleteObjectReply>(MetadataRpc.deleteObject, request);
  putObjectTags = (request: PutObjectTagsRequest) => this.command<ObjectTagsReply>(MetadataRpc.putObjectTags, request);
  deleteObjectTags = (request: DeleteObjectTagsRequest) => this.command<ObjectTagsReply>(MetadataRpc.deleteObjectTags, request);
  headObject = (request: { bucket: string; key: string; versionId?: string }) => this.query<HeadObjectReply>(MetadataRpc.headObject, request);
  listObjects = (request: Query<ListObjectsRequest>) => this.query<ListObjectsReply>(MetadataRpc.listObjects, request);
  listObjectsV2 = (request: Query<ListObjectsV2Request>) => this.query<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, request);
  listObjectVersions = (request: Query<ListObjectVersionsRequest>) => this.query<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, request);

  initiateUpload = (request: InitiateUploadRequest) => this.command<InitiateUploadReply>(MetadataRpc.initiateUpload, request);
  uploadPart = (request: UploadPartRequest) => this.command<UploadPartReply>(MetadataRpc.uploadPart, request);
  completeUpload = (request: CompleteUploadRequest) => this.command<CompleteUploadReply>(MetadataRpc.completeUpload, request);
  abortUpload = (request: AbortUploadRequest) => this.command<AbortUploadReply>(MetadataRpc.abortUpload, request);
  listUploads = (request: Query<ListUploadsRequest>) => this.query<ListUploadsReply>(MetadataRpc.listUploads, request);
  listParts = (request: Query<ListPartsRequest>) => this.query<ListPartsReply>(MetadataRpc.listParts, request);

  getAccessKey = (accessKeyId: string) => this.query<GetAccessKeyReply>(MetadataRpc.getAccessKey, { accessKeyId });

  listNodes = () =>
    this.rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, { minSequence: this.clusterSequence || undefined }, { timeoutMs: METADATA_QUERY_TIMEOUT_MS });
  ringEpoch = () =>
    this.rpc.request<RingEpochReply>(METADATA_SERVICE, MetadataRpc.ringEpoch, { minSequence: this.clusterSequence || undefined }, { timeoutMs: METADATA_QUERY_TIMEOUT_MS });

  private async command<R extends CommandReply>(pattern: MetadataRpcPattern, request: object): Promise<R> {
    const reply = await this.rpc.request<R>(METADATA_SERVICE, pattern, request, { timeoutMs: METADATA_COMMAND_TIMEOUT_MS });
    if (reply.sequence > this.metaSequence) this.metaSequence = reply.sequence;
    return reply;
  }

  private query<R>(pattern: MetadataRpcPattern, request: object): Promise<R> {
    const minSequence = this.metaSequence > 0 ? { minSequence: this.metaSequence } : {};
    return this.rpc.request<R>(METADATA_SERVICE, pattern, { ...request, ...minSequence }, { timeoutMs: METADATA_QUERY_TIMEOUT_MS });
  }
}
