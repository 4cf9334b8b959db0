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
import { ExpiringCache } from './expiring-cache';

/** Commands may wait on optimistic-concurrency retries inside metadata; queries on read-your-writes. */
export const METADATA_COMMAND_TIMEOUT_MS = 15_000;
export const METADATA_QUERY_TIMEOUT_MS = 8_000;

type Query<R> = Omit<R, 'minSequence'>;

export const BUCKET_VIEW_CACHE_MAX_ENTRIES = 10_000;

/** Keys whose last write through this gateway is remembered for read-your-writes. */
export const READ_YOUR_WRITES_TRACKED_KEYS = 100_000;

/**
 * Read-your-writes points: the META sequence each query must wait for. A query waits only for the
 * writes it can see (a GET of one key for that key's last write and its bucket's, a listing for
 * every write), so a read of a cold key never waits behind the projection of unrelated writes.
 */
export class ReadYourWritesTracker {
  private bucketSequence = 0;
  private allSequence = 0;
  /** Sequences of keys no longer tracked individually: lookups of any key wait for at least this. */
  private forgottenSequence = 0;
  private readonly keySequences = new Map<string, number>();

  constructor(private readonly maxTrackedKeys: number = READ_YOUR_WRITES_TRACKED_KEYS) {}

  wroteBucket(sequence: number): void {
    this.bucketSequence = Math.max(this.bucketSequence, sequence);
    this.wrote(sequence);
  }

  wroteKey(bucket: string, key: string, sequence: number): void {
    const id = `${bucket}\n${key}`;
    const previous = this.keySequences.get(id) ?? 0;
    this.keySequences.delete(id);
    this.keySequences.set(id, Math.max(previous, sequence));
    if (this.keySequences.size > this.maxTrackedKeys) {
      const [oldest, oldestSequence] = this.keySequences.entries().next().value as [string, number];
      this.keySequences.delete(oldest);
      this.forgottenSequence = Math.max(this.forgottenSequence, oldestSequence);
    }
    this.wrote(sequence);
  }

  wrote(sequence: number): void {
    this.allSequence = Math.max(this.allSequence, sequence);
  }

  forBucket(): number {
    return this.bucketSequence;
  }

  forKey(bucket: string, key: string): number {
    return Math.max(this.bucketSequence, this.forgottenSequence, this.keySequences.get(`${bucket}\n${key}`) ?? 0);
  }

  forEverything(): number {
    return this.allSequence;
  }
}

/**
 * The metadata service as access sees it, over NATS request/reply. Every command's sequence is
 * remembered, and queries pass the sequence they must see as `minSequence`, so a read after an
 * acknowledged write through this gateway (from any of its clients) sees that write.
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
  /** The bucket as of the last change heard of (through this gateway or any other), cached until the next one. */
  getBucket = (request: { bucket: string }) => this.bucketViews.get(request.bucket);
  listBuckets = (request: { owner?: string }) => this.query<ListBucketsReply>(MetadataRpc.listBuckets, request, this.readYourWrites.forBucket());

  putObject = (request: PutObjectRequest) => this.command<PutObjectReply>(MetadataRpc.putObject, request, this.onKey(request));
  copyObject = (request: CopyObjectRequest) =>
    this.command<CopyObjectReply>(
      MetadataRpc.copyObject,
      { sourceMinSequence: this.readYourWrites.forKey(request.sourceBucket, request.sourceKey), ...request },
      this.onKey(request),
    );
  deleteObject = (request: DeleteObjectRequest) => this.command<DeleteObjectReply>(MetadataRpc.deleteObject, request, this.onKey(request));
  putObjectTags = (request: PutObjectTagsRequest) => this.command<ObjectTagsReply>(MetadataRpc.putObjectTags, request, this.onKey(request));
  deleteObjectTags = (request: DeleteObjectTagsRequest) => this.command<ObjectTagsReply>(MetadataRpc.deleteObjectTags, request, this.onKey(request));
  headObject = (request: { bucket: string; key: string; versionId?: string }) =>
    this.query<HeadObjectReply>(MetadataRpc.headObject, request, this.readYourWrites.forKey(request.bucket, request.key));
  listObjects = (request: Query<ListObjectsRequest>) => this.query<ListObjectsReply>(MetadataRpc.listObjects, request, this.readYourWrites.forEverything());
  listObjectsV2 = (request: Query<ListObjectsV2Request>) => this.query<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, request, this.readYourWrites.forEverything());
  listObjectVersions = (request: Query<ListObjectVersionsRequest>) =>
    this.query<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, request, this.readYourWrites.forEverything());

  initiateUpload = (request: InitiateUploadRequest) => this.command<InitiateUploadReply>(MetadataRpc.initiateUpload, request, (s) => this.readYourWrites.wrote(s));
  uploadPart = (request: UploadPartRequest) => this.command<UploadPartReply>(MetadataRpc.uploadPart, request, (s) => this.readYourWrites.wrote(s));
  completeUpload = (request: CompleteUploadRequest) =>
    this.command<CompleteUploadReply>(MetadataRpc.completeUpload, request, (s, reply) => this.readYourWrites.wroteKey(request.bucket, reply.key, s));
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

  private onKey(request: { bucket: string; key: string }): (sequence: number) => void {
    return (sequence) => this.readYourWrites.wroteKey(request.bucket, request.key, sequence);
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
