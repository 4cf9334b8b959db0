import type { RpcClient } from '@cairn/messaging';
import type { DirectObjectReads } from './direct-object-reads';
import type {
  DeleteBucketOwnershipControlsRequest,
  DeleteBucketPublicAccessBlockRequest,
  GetUserReply,
  GetUserRequest,
  PutBucketAclRequest,
  PutBucketOwnershipControlsRequest,
  PutBucketPublicAccessBlockRequest,
} from '@cairn/protocol';
import type {
  DeleteBucketEncryptionRequest,
  GetUploadReply,
  GetUploadRequest,
  PutBucketEncryptionRequest,
  PutObjectLockConfigurationRequest,
  PutObjectLockReply,
  PutObjectLockRequest,
  RewrapObjectKeyReply,
  RewrapObjectKeyRequest,
} from '@cairn/protocol';
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
  type DeleteBucketCorsRequest,
  type DeleteBucketLifecycleRequest,
  type DeleteBucketPolicyRequest,
  type DeleteBucketTagsRequest,
  type PutBucketCorsRequest,
  type PutBucketLifecycleRequest,
  type PutBucketPolicyRequest,
  type PutBucketTagsRequest,
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
  type PutObjectAclRequest,
  type ResealAccessKeysReply,
  type PutObjectTagsRequest,
  type RingEpochReply,
  type SetBucketVersioningReply,
  type SetBucketVersioningRequest,
  type UploadPartReply,
  type UploadPartRequest,
} from '@cairn/protocol';
import { ExpiringCache } from './expiring-cache';

/** Commands may wait on optimistic-concurrency retries inside metadata; queries on read-your-writes. */
export const METADATA_COMMAND_TIMEOUT_MS = 15_000;
export const METADATA_QUERY_TIMEOUT_MS = 8_000;

type Query<R> = Omit<R, 'minSequence'>;

export const BUCKET_VIEW_CACHE_MAX_ENTRIES = 10_000;

/**
 * Read-your-writes points for the queries metadata answers from its projection (bucket reads and
 * listings): the META sequence each must wait for. A GET or HEAD of a key needs none — metadata
 * reads the key from its own subject, current whichever gateway wrote it.
 */
export class ReadYourWritesTracker {
  private bucketSequence = 0;
  private allSequence = 0;

  wroteBucket(sequence: number): void {
    this.bucketSequence = Math.max(this.bucketSequence, sequence);
    this.wrote(sequence);
  }

  wrote(sequence: number): void {
    this.allSequence = Math.max(this.allSequence, sequence);
  }

  forBucket(): number {
    return this.bucketSequence;
  }

  forEverything(): number {
    return this.allSequence;
  }
}

/**
 * The metadata service as access sees it, over NATS request/reply. Every command's sequence is
 * remembered, and projection queries pass the sequence they must see as `minSequence`, so a listing
 * after an acknowledged write through this gateway (from any of its clients) sees that write.
 */
export class MetadataRpcClient {
  readonly readYourWrites = new ReadYourWritesTracker();
  /** Every S3 request authorizes against its bucket's view, so views are cached and dropped when the bucket changes. */
  private readonly bucketViews: ExpiringCache<GetBucketReply>;
  private readonly bucketChanges = new Map<string, number>();

  /** A bucket view is trusted for `cacheTtlMs` when no change to the bucket is heard of (the backstop for a missed one). */
  constructor(
    private readonly rpc: RpcClient,
    cacheTtlMs: number,
    nowMs: () => number = Date.now,
    /** Answers HEAD/GET of most keys from their subjects, without this RPC (absent: every read asks metadata). */
    private readonly directReads?: DirectObjectReads,
  ) {
    this.bucketViews = new ExpiringCache({
      load: (bucket, changedAt) => this.query<GetBucketReply>(MetadataRpc.getBucket, { bucket }, Math.max(this.readYourWrites.forBucket(), changedAt)),
      ttlMs: () => cacheTtlMs,
      maxEntries: BUCKET_VIEW_CACHE_MAX_ENTRIES,
      nowMs,
    });
  }

  createBucket = (request: CreateBucketRequest) => this.command<CreateBucketReply>(MetadataRpc.createBucket, request, this.onBucket(request.bucket));
  deleteBucket = (request: DeleteBucketRequest) => this.command<DeleteBucketReply>(MetadataRpc.deleteBucket, request, this.onBucket(request.bucket));
  setBucketVersioning = (request: SetBucketVersioningRequest) => this.command<SetBucketVersioningReply>(MetadataRpc.setBucketVersioning, request, this.onBucket(request.bucket));
  putBucketTags = (request: PutBucketTagsRequest) => this.command<CommandReply>(MetadataRpc.putBucketTags, request, this.onBucket(request.bucket));
  deleteBucketTags = (request: DeleteBucketTagsRequest) => this.command<CommandReply>(MetadataRpc.deleteBucketTags, request, this.onBucket(request.bucket));
  putBucketPolicy = (request: PutBucketPolicyRequest) => this.command<CommandReply>(MetadataRpc.putBucketPolicy, request, this.onBucket(request.bucket));
  deleteBucketPolicy = (request: DeleteBucketPolicyRequest) => this.command<CommandReply>(MetadataRpc.deleteBucketPolicy, request, this.onBucket(request.bucket));
  putBucketCors = (request: PutBucketCorsRequest) => this.command<CommandReply>(MetadataRpc.putBucketCors, request, this.onBucket(request.bucket));
  deleteBucketCors = (request: DeleteBucketCorsRequest) => this.command<CommandReply>(MetadataRpc.deleteBucketCors, request, this.onBucket(request.bucket));
  putBucketLifecycle = (request: PutBucketLifecycleRequest) => this.command<CommandReply>(MetadataRpc.putBucketLifecycle, request, this.onBucket(request.bucket));
  deleteBucketLifecycle = (request: DeleteBucketLifecycleRequest) => this.command<CommandReply>(MetadataRpc.deleteBucketLifecycle, request, this.onBucket(request.bucket));
  putBucketEncryption = (request: PutBucketEncryptionRequest) => this.command<CommandReply>(MetadataRpc.putBucketEncryption, request, this.onBucket(request.bucket));
  deleteBucketEncryption = (request: DeleteBucketEncryptionRequest) => this.command<CommandReply>(MetadataRpc.deleteBucketEncryption, request, this.onBucket(request.bucket));
  putObjectLockConfiguration = (request: PutObjectLockConfigurationRequest) =>
    this.command<CommandReply>(MetadataRpc.putObjectLockConfiguration, request, this.onBucket(request.bucket));
  putObjectLock = (request: PutObjectLockRequest) => this.command<PutObjectLockReply>(MetadataRpc.putObjectLock, request, this.onKey());
  rewrapObjectKey = (request: RewrapObjectKeyRequest) => this.command<RewrapObjectKeyReply>(MetadataRpc.rewrapObjectKey, request, this.onKey());
  /** Read from the upload's own subject: current, no sequence to wait for. */
  getUpload = (request: GetUploadRequest) => this.query<GetUploadReply>(MetadataRpc.getUpload, request, 0);
  putBucketAcl = (request: PutBucketAclRequest) => this.command<CommandReply>(MetadataRpc.putBucketAcl, request, this.onBucket(request.bucket));
  putBucketOwnershipControls = (request: PutBucketOwnershipControlsRequest) =>
    this.command<CommandReply>(MetadataRpc.putBucketOwnershipControls, request, this.onBucket(request.bucket));
  deleteBucketOwnershipControls = (request: DeleteBucketOwnershipControlsRequest) =>
    this.command<CommandReply>(MetadataRpc.deleteBucketOwnershipControls, request, this.onBucket(request.bucket));
  putBucketPublicAccessBlock = (request: PutBucketPublicAccessBlockRequest) =>
    this.command<CommandReply>(MetadataRpc.putBucketPublicAccessBlock, request, this.onBucket(request.bucket));
  deleteBucketPublicAccessBlock = (request: DeleteBucketPublicAccessBlockRequest) =>
    this.command<CommandReply>(MetadataRpc.deleteBucketPublicAccessBlock, request, this.onBucket(request.bucket));
  /** A user by name, canonical id or email (NO_SUCH_USER when none); users only ever appear, so any answer stays true. */
  getUser = (request: Query<GetUserRequest>) => this.query<GetUserReply>(MetadataRpc.getUser, request, 0);
  /** The bucket as of the last change heard of (through this gateway or any other), cached until the next one. */
  getBucket = (request: { bucket: string }) => this.bucketViews.get(request.bucket);
  listBuckets = (request: { owner?: string }) => this.query<ListBucketsReply>(MetadataRpc.listBuckets, request, this.readYourWrites.forBucket());

  putObject = (request: PutObjectRequest) => this.command<PutObjectReply>(MetadataRpc.putObject, request, this.onKey());
  copyObject = (request: CopyObjectRequest) =>
    this.command<CopyObjectReply>(
      MetadataRpc.copyObject,
      request,
      this.onKey(),
    );
  deleteObject = (request: DeleteObjectRequest) => this.command<DeleteObjectReply>(MetadataRpc.deleteObject, request, this.onKey());
  putObjectTags = (request: PutObjectTagsRequest) => this.command<ObjectTagsReply>(MetadataRpc.putObjectTags, request, this.onKey());
  /** Many keys may be resealed in one call: a minute, not the usual RPC timeout. */
  resealAccessKeys = () => this.rpc.request<ResealAccessKeysReply>(METADATA_SERVICE, MetadataRpc.resealAccessKeys, {}, { timeoutMs: 60_000 });
  putObjectAcl = (request: PutObjectAclRequest) => this.command<ObjectTagsReply>(MetadataRpc.putObjectAcl, request, this.onKey());
  deleteObjectTags = (request: DeleteObjectTagsRequest) => this.command<ObjectTagsReply>(MetadataRpc.deleteObjectTags, request, this.onKey());
  /** Read from the key's own subject: by this gateway itself where it can (DirectObjectReads), else by metadata. */
  headObject = async (request: { bucket: string; key: string; versionId?: string; requester?: string }): Promise<HeadObjectReply> =>
    (await this.directReads?.head(request.bucket, request.key, request.versionId)) ?? this.query<HeadObjectReply>(MetadataRpc.headObject, request, 0);
  listObjects = (request: Query<ListObjectsRequest>) => this.query<ListObjectsReply>(MetadataRpc.listObjects, request, this.readYourWrites.forEverything());
  listObjectsV2 = (request: Query<ListObjectsV2Request>) => this.query<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, request, this.readYourWrites.forEverything());
  listObjectVersions = (request: Query<ListObjectVersionsRequest>) =>
    this.query<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, request, this.readYourWrites.forEverything());

  initiateUpload = (request: InitiateUploadRequest) => this.command<InitiateUploadReply>(MetadataRpc.initiateUpload, request, (s) => this.readYourWrites.wrote(s));
  uploadPart = (request: UploadPartRequest) => this.command<UploadPartReply>(MetadataRpc.uploadPart, request, (s) => this.readYourWrites.wrote(s));
  completeUpload = (request: CompleteUploadRequest) =>
    this.command<CompleteUploadReply>(MetadataRpc.completeUpload, request, this.onKey()).catch((error: unknown) => {
      // A completion refused by its condition reopened the upload at this sequence: listings must see it open.
      const sequence = (error as { details?: { sequence?: unknown } }).details?.sequence;
      if (typeof sequence === 'number') this.readYourWrites.wrote(sequence);
      throw error;
    });
  abortUpload = (request: AbortUploadRequest) => this.command<AbortUploadReply>(MetadataRpc.abortUpload, request, (s) => this.readYourWrites.wrote(s));
  listUploads = (request: Query<ListUploadsRequest>) => this.query<ListUploadsReply>(MetadataRpc.listUploads, request, this.readYourWrites.forEverything());
  listParts = (request: Query<ListPartsRequest>) => this.query<ListPartsReply>(MetadataRpc.listParts, request, this.readYourWrites.forEverything());

  getAccessKey = (accessKeyId: string, minSequence = 0) => this.query<GetAccessKeyReply>(MetadataRpc.getAccessKey, { accessKeyId }, minSequence);

  /** Membership is on the CLUSTER stream, whose sequences access never writes. */
  listNodes = () => this.query<ListNodesReply>(MetadataRpc.listNodes, {}, 0);
  ringEpoch = () => this.query<RingEpochReply>(MetadataRpc.ringEpoch, {}, 0);

  /**
   * The bucket changed at this stream sequence (its events say so, or a command of ours did it):
   * its cached view is dropped, and the next read of it waits until the projection has the change.
   */
  bucketChanged(bucket: string, sequence: number): void {
    this.bucketViews.invalidate(bucket, sequence);
  }

  private onBucket(bucket: string): (sequence: number) => void {
    return (sequence) => {
      this.readYourWrites.wroteBucket(sequence);
      this.bucketChanged(bucket, sequence);
    };
  }

  private onKey(): (sequence: number) => void {
    return (sequence) => this.readYourWrites.wrote(sequence);
  }

  private async command<R extends CommandReply>(pattern: MetadataRpcPattern, request: object, record: (sequence: number, reply: R) => void): Promise<R> {
    const reply = await this.rpc.request<R>(METADATA_SERVICE, pattern, request, { timeoutMs: METADATA_COMMAND_TIMEOUT_MS });
    record(reply.sequence, reply);
    return reply;
  }

  private query<R>(pattern: MetadataRpcPattern, request: object, minSequence: number): Promise<R> {
    return this.rpc.request<R>(METADATA_SERVICE, pattern, minSequence > 0 ? { ...request, minSequence } : request, { timeoutMs: METADATA_QUERY_TIMEOUT_MS });
  }
}
