import type { CorsConfiguration } from '../bucket-cors/bucket-cors.config';
import type { ObjectEncryption, ObjectRetention } from './data-protection';
import type { AccessControlList, ObjectOwnership } from '../acl/acl.types';
import type { ExpectedVersion } from '../bucket-lifecycle/lifecycle-versions.contract';
import type { LifecycleConfiguration } from '../bucket-lifecycle/bucket-lifecycle.config';
import type { Checksums, ChunkRef, ContentHeaders, ErasureLayout, ReplicationConfig, StorageClass, Tag, UploadChecksum, UserMetadata, VersioningStatus } from './common';
import type {
  AccessKeyView,
  BucketView,
  ListObjectsOptions,
  ListObjectsV1Result,
  ListObjectsV2Result,
  ListPartsResult,
  ListUploadsResult,
  ListVersionsResult,
  ObjectVersionView,
  StorageNodeView,
} from './metadata.views';
import type { StorageNodeDescription } from './membership.events';
import type { ConflictSide } from './object.events';
import type { EventEnvelope } from '../envelope';

/**
 * The metadata service's request/reply contract over NATS.
 *
 * A caller does `rpc.request<Reply>(METADATA_SERVICE, MetadataRpc.putObject, request)`, which goes to
 * `rpc.metadata.object.put`; the handler is `@MessagePattern(metadataPattern(MetadataRpc.putObject))`.
 * Errors reject with a CairnError whose code is one of MetadataErrorCodes (S3's code where S3 has
 * one) or a shared ErrorCodes (TIMEOUT, NO_HANDLER, INVALID_COMMAND).
 *
 * Commands carry what the caller knows (bucket, key, sizes, etag, checksums, chunks, conditions,
 * owner). Metadata generates version ids, upload ids, HLC and time, computes keyId = sha256(key)
 * and reads the bucket's versioning from the bucket's own event subject (always current). Every
 * command reply carries `sequence`: the stream sequence its events were appended at (or the
 * aggregate's last sequence when the command changed nothing). Pass it as `minSequence` to a later
 * query to read your own write: the query waits (at most METADATA_READ_WAIT_MAX_MS, then TIMEOUT)
 * until the projection has applied that sequence.
 *
 * Sequences are per stream: bucket, object, upload and access-key commands append to META;
 * storage-node membership commands to CLUSTER. `minSequence` of node.list / ring.epoch refers to
 * CLUSTER, of every other query to META.
 */
export const METADATA_SERVICE = 'metadata';

export const MetadataRpc = {
  // buckets
  createBucket: 'bucket.create',
  /** Two-phase (seal, count, delete or cancel) inside the service; one request for the caller. */
  deleteBucket: 'bucket.delete',
  setBucketVersioning: 'bucket.versioning.set',
  setBucketReplication: 'bucket.replication.set',
  setBucketDefaultStorageClass: 'bucket.storage-class.set',
  putBucketTags: 'bucket.tags.put',
  deleteBucketTags: 'bucket.tags.delete',
  /** The policy is read back with getBucket (BucketView.policy). */
  putBucketPolicy: 'bucket.policy.put',
  deleteBucketPolicy: 'bucket.policy.delete',
  /** The CORS configuration is read back with getBucket (BucketView.cors). */
  putBucketCors: 'bucket.cors.put',
  deleteBucketCors: 'bucket.cors.delete',
  /** Default encryption and Object Lock configuration are read back with getBucket (BucketView.encryption, .objectLock). */
  putBucketEncryption: 'bucket.encryption.put',
  deleteBucketEncryption: 'bucket.encryption.delete',
  putObjectLockConfiguration: 'bucket.object-lock.put',
  /** The lifecycle configuration is read back with getBucket (BucketView.lifecycle). */
  putBucketLifecycle: 'bucket.lifecycle.put',
  deleteBucketLifecycle: 'bucket.lifecycle.delete',
  /** A page of a bucket's keys with all their versions, for the scheduler's lifecycle pass: see ListLifecycleVersionsRequest. */
  listLifecycleVersions: 'lifecycle.versions',
  /** ACL, ownership controls and PublicAccessBlock are read back with getBucket (BucketView.acl, …). */
  putBucketAcl: 'bucket.acl.put',
  putBucketOwnershipControls: 'bucket.ownership.put',
  deleteBucketOwnershipControls: 'bucket.ownership.delete',
  putBucketPublicAccessBlock: 'bucket.public-access-block.put',
  deleteBucketPublicAccessBlock: 'bucket.public-access-block.delete',
  getBucket: 'bucket.get',
  listBuckets: 'bucket.list',
  // objects
  putObject: 'object.put',
  copyObject: 'object.copy',
  /** Without versionId: S3 DeleteObject (delete marker, or null-version removal); with it: that version. */
  deleteObject: 'object.delete',
  putObjectTags: 'object.tags.put',
  /** PutObjectAcl: see PutObjectAclRequest; read back with headObject (ObjectVersionView.acl). */
  putObjectAcl: 'object.acl.put',
  deleteObjectTags: 'object.tags.delete',
  /** PutObjectRetention / PutObjectLegalHold: see PutObjectLockRequest (data-protection.rpc.ts). */
  putObjectLock: 'object.lock.put',
  /** A version's data key wrapped again (master key rotation): see RewrapObjectKeyRequest. */
  rewrapObjectKey: 'object.key.rewrap',
  /**
   * Swaps a version's chunk list for the same bytes stored in another storage class, in place (no
   * new version): see ChangeObjectStorageClassRequest and docs/storage-classes.md "For lifecycle".
   */
  changeObjectStorageClass: 'object.storage-class.change',
  headObject: 'object.head',
  listObjects: 'object.list',
  listObjectsV2: 'object.list-v2',
  listObjectVersions: 'object.list-versions',
  // multipart uploads
  initiateUpload: 'upload.initiate',
  uploadPart: 'upload.part',
  /** Completes the upload, then puts the object version on the key (one request). */
  completeUpload: 'upload.complete',
  abortUpload: 'upload.abort',
  /** An open upload's key and encryption (UploadPart encrypts under the upload's data key): see GetUploadRequest. */
  getUpload: 'upload.get',
  listUploads: 'upload.list',
  listParts: 'upload.list-parts',
  // access keys
  createAccessKey: 'accesskey.create',
  revokeAccessKey: 'accesskey.revoke',
  getAccessKey: 'accesskey.get',
  listAccessKeys: 'accesskey.list',
  /** Seals every access-key secret not sealed under the current master key version again under it: see ResealAccessKeysReply. */
  resealAccessKeys: 'accesskey.reseal',
  // users (user-access.rpc.ts)
  createUser: 'user.create',
  /** By name, canonical id or email: see GetUserRequest. */
  getUser: 'user.get',
  listUsers: 'user.list',
  // storage-node membership (CLUSTER stream)
  joinNode: 'node.join',
  changeNodeWeight: 'node.weight',
  drainNode: 'node.drain',
  removeNode: 'node.remove',
  listNodes: 'node.list',
  ringEpoch: 'ring.epoch',
  // chunks (garbage collection and the repair sweep)
  /** The distinct chunk hashes metadata references, in hash order: see ListChunkReferencesRequest. */
  listChunkReferences: 'chunk.references',
  /** Bytes stored per storage class (logical, and raw on the nodes): see StorageCapacityReply. */
  storageCapacity: 'capacity.classes',
  // replication between regions (sync)
  /** Applies another region's change (an event of a replicated bucket) here: see ApplyReplicatedRequest. */
  applyReplicated: 'replication.apply',
  /** A bucket's replication as its own subject says now (not the projection): `{ replication }`, null when the bucket is not here. */
  bucketReplication: 'replication.bucket',
  /** The conflicts resolved on a bucket's keys, oldest first: see ListConflictsRequest. */
  listConflicts: 'conflict.list',
  /** A page of a bucket's anti-entropy leaves (key, versionId, etag, deleted), in key order. */
  listReplicaLeaves: 'replication.leaves',
  // the past (point-in-time.contract.ts)
  /** Live objects of a bucket as of a moment, from the event log. */
  historyList: 'history.list',
  /** A key's version as of a moment, from its subject's events. */
  historyHead: 'history.head',
  /** What restoring a bucket (or prefix) to a moment takes, a page of keys at a time. */
  restorePlan: 'history.restore-plan',
  /** The same, from events a backup holds (RestorePlanFromEventsRequest): for moments the live log no longer reaches. */
  restorePlanFromEvents: 'history.restore-plan-from-events',
  /** historyList and historyHead over events a backup holds (HistoryListFromEventsRequest, HistoryHeadFromEventsRequest). */
  historyListFromEvents: 'history.list-from-events',
  historyHeadFromEvents: 'history.head-from-events',
  /** Replays a backup's events into this region's META (a region restore): see ImportEventsRequest. */
  importEvents: 'history.import',
  // operations
  projectionStatus: 'projection.status',
} as const;
export type MetadataRpcPattern = (typeof MetadataRpc)[keyof typeof MetadataRpc];

/** The `@MessagePattern` of a metadata handler: `metadataPattern(MetadataRpc.putObject)` = 'metadata.object.put'. */
export function metadataPattern(pattern: MetadataRpcPattern): string {
  return `${METADATA_SERVICE}.${pattern}`;
}

/** Longest a query waits for its minSequence before answering TIMEOUT. */
export const METADATA_READ_WAIT_MAX_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Shared shapes

export interface CommandReply {
  /** Stream sequence the command's events were appended at (META, or CLUSTER for membership). */
  readonly sequence: number;
}

/**
 * The access key a request came with (absent for anonymous requests). A region that is not an
 * active-passive bucket's home forwards writes to it and remembers, per access key, the home's
 * sequence of the last one; that key's reads there wait until replication has brought it
 * (read-your-writes across regions, docs/failover.md).
 */
export interface Requester {
  readonly requester?: string;
}

export interface ReadYourWrites {
  /** Wait until the projection has applied this stream sequence (a CommandReply.sequence). */
  readonly minSequence?: number;
}

export interface ConditionalWrite {
  /** Unquoted or quoted etag the current version must have (S3 If-Match). */
  readonly ifMatch?: string;
  /** Only '*': the key must not exist (S3 If-None-Match). */
  readonly ifNoneMatch?: '*';
}

// ---------------------------------------------------------------------------------------------
// Buckets

export interface CreateBucketRequest {
  readonly bucket: string;
  /** x-amz-bucket-object-lock-enabled: Object Lock on from the start (versioning Enabled with it). */
  readonly objectLockEnabled?: boolean;
  readonly owner: string;
  readonly versioningEnabled?: boolean;
  readonly replication?: ReplicationConfig;
  readonly defaultStorageClass?: StorageClass;
  /** x-amz-object-ownership; absent: BucketOwnerEnforced (S3's default). */
  readonly objectOwnership?: ObjectOwnership;
  /** The ACL from x-amz-acl / x-amz-grant-*, grantees resolved; absent: private. */
  readonly acl?: AccessControlList;
}
export interface CreateBucketReply extends CommandReply {
  readonly bucket: string;
  /** The region the bucket was created in (this metadata service's region). */
  readonly region: string;
  readonly createdAt: string;
}

export interface DeleteBucketRequest {
  readonly bucket: string;
}
/** Errors: NoSuchBucket, BucketNotEmpty (the seal is cancelled again), OperationAborted (another delete in progress). */
export type DeleteBucketReply = CommandReply;

export interface SetBucketVersioningRequest {
  readonly bucket: string;
  /** 'Enabled' | 'Suspended'; anything else answers IllegalVersioningConfigurationException. */
  readonly versioning: string;
}
export interface SetBucketVersioningReply extends CommandReply {
  readonly versioning: VersioningStatus;
}

export interface SetBucketReplicationRequest {
  readonly bucket: string;
  readonly replication: ReplicationConfig;
}
export interface SetBucketDefaultStorageClassRequest {
  readonly bucket: string;
  readonly defaultStorageClass: string;
}
export interface PutBucketTagsRequest {
  readonly bucket: string;
  readonly tags: readonly Tag[];
}
export interface DeleteBucketTagsRequest {
  readonly bucket: string;
}
/** MalformedPolicy (with S3's message) unless the text is a valid policy for the bucket. */
export interface PutBucketPolicyRequest {
  readonly bucket: string;
  readonly policy: string;
}
export interface DeleteBucketPolicyRequest {
  readonly bucket: string;
}
/** MalformedXML / InvalidRequest (S3's messages) unless the configuration validates. */
export interface PutBucketCorsRequest {
  readonly bucket: string;
  readonly cors: CorsConfiguration;
}
export interface DeleteBucketCorsRequest {
  readonly bucket: string;
}
/** MalformedXML / InvalidArgument / InvalidRequest (S3's messages) unless the configuration validates. */
export interface PutBucketLifecycleRequest {
  readonly bucket: string;
  readonly lifecycle: LifecycleConfiguration;
}
export interface DeleteBucketLifecycleRequest {
  readonly bucket: string;
}

export interface GetBucketRequest extends ReadYourWrites {
  readonly bucket: string;
}
/** Error NoSuchBucket when absent. */
export type GetBucketReply = BucketView;

export interface ListBucketsRequest extends ReadYourWrites {
  readonly owner?: string;
}
export interface ListBucketsReply {
  readonly buckets: readonly BucketView[];
}

// ---------------------------------------------------------------------------------------------
// Objects

export interface PutObjectRequest extends ConditionalWrite, Requester {
  readonly bucket: string;
  /** Any UTF-8, 1..1024 bytes, stored exactly as given. */
  readonly key: string;
  readonly sizeBytes: number;
  /** Hex MD5 of the body (or `<hex>-<n>`), unquoted. */
  readonly etag: string;
  readonly checksums?: Checksums;
  /** Default 'binary/octet-stream'. */
  readonly contentType?: string;
  readonly userMetadata?: UserMetadata;
  /** Cache-Control, Content-Disposition, …: stored and returned on GET/HEAD. Default none. */
  readonly contentHeaders?: ContentHeaders;
  /** Chunks in object order with their offsets; sizes sum to sizeBytes. */
  readonly chunks: readonly ChunkRef[];
  /** Default: the bucket's default storage class. */
  readonly storageClass?: StorageClass;
  readonly tags?: readonly Tag[];
  /**
   * Only from sync, at an active-passive bucket's home: the put completes a multipart upload
   * another region took (its upload id, version id and part sizes), so a retry is told apart.
   */
  readonly forwardedCompletion?: { readonly uploadId: string; readonly versionId: string; readonly partSizes: readonly number[] };
  /** How the chunks are encrypted (the gateway encrypted them); absent: stored as sent. */
  readonly encryption?: ObjectEncryption;
  /** x-amz-object-lock-mode / -retain-until-date; absent: the bucket's default retention, if any. */
  readonly retention?: ObjectRetention;
  readonly legalHold?: boolean;
  /**
   * The version's ACL as the gateway built it (owner and grants, docs/acls.md); absent: private,
   * owned by the bucket's owner. Refused by the key's decider as S3 refuses it (ACLs disabled,
   * BlockPublicAcls).
   */
  readonly acl?: AccessControlList;
}
export interface PutObjectReply extends CommandReply {
  /** 'null' unless the bucket's versioning is Enabled. */
  readonly versionId: string;
  readonly etag: string;
  readonly lastModified: string;
  readonly hlc: string;
}

export interface CopyObjectRequest extends ConditionalWrite, Requester {
  readonly bucket: string;
  readonly key: string;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  /** Default: the source's current version. */
  readonly sourceVersionId?: string;
  readonly metadataDirective?: 'COPY' | 'REPLACE';
  /** These three are used with metadataDirective REPLACE; COPY keeps the source's. */
  readonly contentType?: string;
  readonly userMetadata?: UserMetadata;
  readonly contentHeaders?: ContentHeaders;
  readonly storageClass?: StorageClass;
  /**
   * The source's bytes re-stored for the copy's storage class when its layout differs from the
   * source's (a replicated class to an erasure-coded one, or RF 2 to 3): the gateway rewrote them.
   * Absent: the copy shares the source's chunks.
   */
  readonly chunks?: readonly ChunkRef[];
  readonly taggingDirective?: 'COPY' | 'REPLACE';
  readonly tags?: readonly Tag[];
  /**
   * The copy's encryption: the source's data key wrapped for the destination (the chunks are the
   * source's, so the data key is too). Absent: the source's encryption as it is.
   */
  readonly encryption?: ObjectEncryption;
  readonly retention?: ObjectRetention;
  readonly legalHold?: boolean;
  /**
   * The version's ACL as the gateway built it (owner and grants, docs/acls.md); absent: private,
   * owned by the bucket's owner. Refused by the key's decider as S3 refuses it (ACLs disabled,
   * BlockPublicAcls).
   */
  readonly acl?: AccessControlList;
}
export interface CopyObjectReply extends CommandReply {
  readonly versionId: string;
  readonly sourceVersionId: string;
  readonly etag: string;
  readonly lastModified: string;
}

export interface DeleteObjectRequest extends Requester {
  readonly bucket: string;
  /** x-amz-bypass-governance-retention from a caller allowed s3:BypassGovernanceRetention. */
  readonly bypassGovernanceRetention?: boolean;
  readonly key: string;
  readonly versionId?: string;
  /** Lifecycle's removals: only if the version (the current one without versionId) is still as read; else PreconditionFailed. */
  readonly expect?: ExpectedVersion;
  /**
   * S3's conditional delete (If-Match, or a DeleteObjects entry's ETag): the current version's ETag,
   * or '*' for any. Decided with the delete: PreconditionFailed when the current version has another
   * ETag, NoSuchKey when there is no current version (absent, or a delete marker).
   */
  readonly ifMatch?: string;
}
export interface DeleteObjectReply extends CommandReply {
  /** The delete marker's id (no versionId given, bucket versioned), or the version removed. Absent when nothing was versioned. */
  readonly versionId?: string;
  /** True when a delete marker was put, or the version removed was one (S3 x-amz-delete-marker). */
  readonly deleteMarker: boolean;
}

export interface PutObjectTagsRequest {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly tags: readonly Tag[];
}
/**
 * object.acl.put: a version's ACL replaced (PutObjectAcl). Errors: NoSuchKey / NoSuchVersion,
 * MethodNotAllowed (a delete marker), AccessControlListNotSupported (the bucket's ACLs are
 * disabled and the ACL grants more than the bucket owner's full control), AccessDenied
 * (BlockPublicAcls and a public ACL).
 */
export interface PutObjectAclRequest {
  readonly bucket: string;
  readonly key: string;
  /** The current version when absent. */
  readonly versionId?: string;
  readonly acl: AccessControlList;
}

export interface ObjectTagsReply extends CommandReply {
  readonly versionId: string;
}
/**
 * A version's bytes re-stored in another class (libs/chunk-client rewriteChunks), swapped in
 * atomically: the key's subject takes the change only while the version is still there, holds the
 * bytes with this etag and is still of `fromStorageClass` (else PreconditionFailed; NoSuchVersion
 * when it is gone). A retry of a change already made answers with `changed: false`. The old chunks
 * are left to garbage collection. Not replicated between regions: each region chooses its layout.
 */
export interface ChangeObjectStorageClassRequest {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly etag: string;
  readonly fromStorageClass: StorageClass;
  readonly storageClass: StorageClass;
  /** The version's chunks in the new class: same offsets and sizes, same content hashes. */
  readonly chunks: readonly ChunkRef[];
}
export interface ChangeObjectStorageClassReply extends CommandReply {
  readonly versionId: string;
  readonly storageClass: StorageClass;
  /** False when the version already had the class (a retried change). */
  readonly changed: boolean;
}

export interface DeleteObjectTagsRequest {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/** Read from the key's own subject, so always current: there is no sequence to wait for. */
export interface HeadObjectRequest extends Requester {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}
/** Errors: NoSuchBucket, NoSuchKey (details.deleteMarker when current is a marker), NoSuchVersion, MethodNotAllowed. */
export type HeadObjectReply = ObjectVersionView;

export interface ListObjectsRequest extends ListObjectsOptions, ReadYourWrites, Requester {
  readonly bucket: string;
  /** Exclusive. */
  readonly marker?: string;
}
export type ListObjectsReply = ListObjectsV1Result;

export interface ListObjectsV2Request extends ListObjectsOptions, ReadYourWrites, Requester {
  readonly bucket: string;
  readonly startAfter?: string;
  readonly continuationToken?: string;
}
export type ListObjectsV2Reply = ListObjectsV2Result;

export interface ListObjectVersionsRequest extends ListObjectsOptions, ReadYourWrites, Requester {
  readonly bucket: string;
  readonly keyMarker?: string;
  readonly versionIdMarker?: string;
}
export type ListObjectVersionsReply = ListVersionsResult;

// ---------------------------------------------------------------------------------------------
// Multipart uploads

export interface InitiateUploadRequest {
  readonly bucket: string;
  readonly key: string;
  readonly owner: string;
  readonly contentType?: string;
  readonly userMetadata?: UserMetadata;
  /** Given to the completed object version. */
  readonly contentHeaders?: ContentHeaders;
  readonly storageClass?: StorageClass;
  readonly tags?: readonly Tag[];
  /** The object's checksum; without one, it gets composite checksums of whatever every part has. */
  readonly checksum?: UploadChecksum;
  /** The completed version's encryption; every part is encrypted under its data key. */
  readonly encryption?: ObjectEncryption;
  readonly retention?: ObjectRetention;
  readonly legalHold?: boolean;
  /** The completed version's ACL (see PutObjectRequest.acl). */
  readonly acl?: AccessControlList;
}
export interface InitiateUploadReply extends CommandReply {
  readonly uploadId: string;
}

export interface UploadPartRequest {
  readonly bucket: string;
  readonly uploadId: string;
  readonly partNumber: number;
  /** Hex MD5 of the part, unquoted. */
  readonly etag: string;
  readonly sizeBytes: number;
  readonly checksums?: Checksums;
  /** Offsets within the part. */
  readonly chunks: readonly ChunkRef[];
}
export interface UploadPartReply extends CommandReply {
  readonly etag: string;
  readonly lastModified: string;
}

/** The part list exactly as the client sent it in CompleteMultipartUpload. */
export interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
  /** Checksums the client names for the part (S3's ChecksumCRC32…): each must be the one stored with it. */
  readonly checksums?: Checksums;
}

export interface CompleteUploadRequest extends Requester {
  readonly bucket: string;
  readonly uploadId: string;
  /** As the client sent them: ascending part numbers, etags quoted or not. */
  readonly parts: readonly RequestedPart[];
  /**
   * S3 conditional write, decided by the key's aggregate when the version is put: replace only the
   * version with this etag (quoted or not). Errors: PreconditionFailed, NoSuchKey.
   */
  readonly ifMatch?: string;
  /** Create only if the key has no live version. Errors: PreconditionFailed (the upload stays open). */
  readonly ifNoneMatch?: '*';
  /** The object's checksums as the client computed them (x-amz-checksum-*): BadDigest unless they are the object's. */
  readonly checksums?: Checksums;
}
export interface CompleteUploadReply extends CommandReply {
  readonly key: string;
  readonly versionId: string;
  /** S3's multipart etag `<md5 of md5s>-<n>`, unquoted. */
  readonly etag: string;
  readonly sizeBytes: number;
  readonly lastModified: string;
  /** S3's composite checksums (`<base64 of the checksum of the parts' checksums>-<n>`) of the algorithms every part has. */
  readonly checksums: Checksums;
}

export interface AbortUploadRequest {
  readonly bucket: string;
  readonly uploadId: string;
}
export type AbortUploadReply = CommandReply;

export interface ListUploadsRequest extends ReadYourWrites {
  readonly bucket: string;
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly maxUploads?: number;
  readonly keyMarker?: string;
  readonly uploadIdMarker?: string;
}
export type ListUploadsReply = ListUploadsResult;

export interface ListPartsRequest extends ReadYourWrites {
  readonly bucket: string;
  readonly uploadId: string;
  readonly partNumberMarker?: number;
  readonly maxParts?: number;
}
export type ListPartsReply = ListPartsResult;

// ---------------------------------------------------------------------------------------------
// Access keys

export interface CreateAccessKeyRequest {
  readonly owner: string;
}
export interface CreateAccessKeyReply extends CommandReply {
  readonly accessKeyId: string;
  /** Shown once, here. */
  readonly secretAccessKey: string;
  readonly owner: string;
  readonly createdAt: string;
}

export interface RevokeAccessKeyRequest {
  readonly accessKeyId: string;
}
export type RevokeAccessKeyReply = CommandReply;

export interface GetAccessKeyRequest extends ReadYourWrites {
  readonly accessKeyId: string;
}
/** Error InvalidAccessKeyId when the key never existed; a revoked key answers with revokedAt set. */
export type GetAccessKeyReply = AccessKeyView;

export interface ListAccessKeysRequest extends ReadYourWrites {
  readonly owner?: string;
}
/** Secrets are blanked ('') in listings. */
export interface ListAccessKeysReply {
  readonly accessKeys: readonly AccessKeyView[];
}

// ---------------------------------------------------------------------------------------------
// Storage-node membership (CLUSTER stream)

export type JoinNodeRequest = StorageNodeDescription;
export interface ChangeNodeWeightRequest {
  readonly nodeId: string;
  readonly weight: number;
  readonly capacityBytes: number;
}
export interface NodeIdRequest {
  readonly nodeId: string;
}
export interface MembershipReply extends CommandReply {
  /** The ring epoch after the command. */
  readonly epoch: number;
}

export type ListNodesRequest = ReadYourWrites;
export interface ListNodesReply {
  readonly nodes: readonly StorageNodeView[];
  readonly epoch: number;
}
export type RingEpochRequest = ReadYourWrites;
export interface RingEpochReply {
  readonly epoch: number;
}

// ---------------------------------------------------------------------------------------------
// Chunk references (garbage collection and the repair sweep)

/** Chunks in one ListChunkReferences answer when the request gives no limit. */
export const CHUNK_REFERENCES_LIMIT_DEFAULT = 1000;
/** The largest limit a ListChunkReferences request may give (more answers InvalidArgument). */
export const CHUNK_REFERENCES_LIMIT_MAX = 10_000;

/**
 * One page of the chunks stored on storage nodes that metadata references: every chunk of every
 * object version (current and noncurrent) and of every part of a multipart upload still open.
 * Inline chunks (ChunkRef.inline) are left out: they live in metadata, on no storage node.
 *
 * There is no minSequence: the service reads META's last sequence when the request arrives and
 * waits (at most METADATA_READ_WAIT_MAX_MS, then TIMEOUT) until the projection has applied it, so
 * every reference acknowledged before the request is in the answer. Errors: InvalidArgument.
 */
export interface ListChunkReferencesRequest {
  /** Exclusive lower bound: 64 lowercase hex digits, or '' (the default) to start at the lowest hash. */
  readonly after?: string;
  /** Exclusive upper bound: 1 to 64 lowercase hex digits (a prefix bounds its whole range), default none. */
  readonly before?: string;
  /** 1..CHUNK_REFERENCES_LIMIT_MAX, default CHUNK_REFERENCES_LIMIT_DEFAULT. */
  readonly limit?: number;
}
export interface ChunkReference {
  /** SHA-256 hex of the chunk's bytes (lowercase). */
  readonly hash: string;
  readonly sizeBytes: number;
  /**
   * The highest replication factor of the storage classes of the versions and uploads naming it as a
   * whole chunk (replicationFactorOf); 0 when it is named only as a shard of erasure-coded chunks.
   */
  readonly replicationFactor: number;
  /**
   * Set when the hash is a shard of erasure-coded chunks (ChunkRef.erasure): each stripe it is in
   * (at most CHUNK_REFERENCE_STRIPES_MAX), its place in it, and the stripe's layout, so the repair
   * sweep can tell where the shard belongs (the `index`-th of the ring's k+m replicas of `stripe`)
   * and rebuild it from the other shards when no node holds it.
   */
  readonly stripes?: readonly ShardPlacement[];
}

/** How many stripes a shard reference lists: one places and rebuilds it; equal shards of several stripes are rare. */
export const CHUNK_REFERENCE_STRIPES_MAX = 4;

/** One storage class's share of the region (versions of objects, noncurrent ones included; open uploads' parts not). */
export interface StorageClassCapacity {
  readonly storageClass: string;
  readonly versions: number;
  /** The versions' sizes added up: what clients stored. */
  readonly logicalBytes: number;
  /** Bytes kept inline in metadata (small objects), not on the nodes. */
  readonly inlineBytes: number;
  /** Bytes on the nodes for the class: each replicated chunk times its class's RF, each stripe's k+m shards. */
  readonly storedBytes: number;
  /** What the same chunks would take as three copies each (STANDARD). */
  readonly threeCopyBytes: number;
  /** Logical bytes held erasure-coded. */
  readonly erasureCodedBytes: number;
}
export interface StorageCapacityReply {
  readonly classes: readonly StorageClassCapacity[];
  /** The META sequence the figures are as of. */
  readonly asOfSequence: number;
}

export interface ShardPlacement {
  /** The erasure-coded chunk's hash. */
  readonly stripe: string;
  readonly index: number;
  readonly layout: ErasureLayout;
}
export interface ListChunkReferencesReply {
  /** Ascending by hash, each hash once, all in (after, before). */
  readonly chunks: readonly ChunkReference[];
  /** Pass as `after` for the next page; null when the range holds no more. */
  readonly nextAfter: string | null;
  /**
   * The META sequence the answer is exactly as of: every event up to it, none after it. At least the
   * stream's last sequence when the request arrived, so a chunk in the range the page covers
   * ((after, nextAfter], or (after, before) on the last page) that is not in `chunks` was referenced
   * by nothing at that moment. Each page has its own.
   */
  readonly asOfSequence: number;
  /**
   * The region replication factor (CAIRN_REPLICATION_FACTOR) the chunks' factors were reckoned at;
   * absent from a metadata older than the setting. The sweep does nothing on a disagreement.
   */
  readonly regionReplicationFactor?: number;
}

// ---------------------------------------------------------------------------------------------
// Operations

export interface ProjectionStreamStatus {
  readonly stream: 'META' | 'CLUSTER';
  /** Last stream sequence the projection committed. */
  readonly checkpoint: number;
  /** Last sequence in the stream (of the subjects the projection reads). */
  readonly lastSequence: number;
  readonly lag: number;
}
export interface ProjectionStatusReply {
  readonly streams: readonly ProjectionStreamStatus[];
}

// ---------------------------------------------------------------------------------------------
// Replication between regions

/**
 * Another region's change, as sync read it from that region's META stream: a bucket event or an
 * object-key event of a bucket replicated to this region. Metadata decides it like a write of its
 * own — in order per key (its version vector), exactly once (a change already applied answers
 * `applied: false`), conflicts resolved (ConflictResolved) — and appends it with `origin` set.
 * Errors: OutOfOrder (an earlier change of the same key from that region has not been applied
 * yet: retry after it), NoSuchBucket (the bucket has not arrived here yet), InvalidArgument.
 */
export interface ApplyReplicatedRequest {
  /** The region whose change this is (the envelope's origin, or its region). */
  readonly sourceRegion: string;
  /** The event's sequence in the source region's META stream (for the reply and logs). */
  readonly sourceSequence: number;
  readonly envelope: EventEnvelope;
}
export interface ApplyReplicatedReply extends CommandReply {
  readonly applied: boolean;
  /** Set when applying the change resolved a conflict. */
  readonly conflictId?: string;
}

export interface ListConflictsRequest extends ReadYourWrites {
  readonly bucket: string;
  /** ISO-8601; conflicts resolved at or after it. */
  readonly since?: string;
  /** ISO-8601; conflicts resolved before it. */
  readonly until?: string;
  /** The `nextAfter` of the previous page. */
  readonly after?: string;
  /** 1..1000, default 1000. */
  readonly limit?: number;
}
export interface ConflictRecord {
  readonly conflictId: string;
  readonly bucket: string;
  readonly key: string;
  readonly winner: ConflictSide;
  readonly loser: ConflictSide;
  /** The id the loser is kept under as a noncurrent version; null when it left nothing (a delete). */
  readonly loserVersionId: string | null;
  readonly resolvedAt: string;
}
export interface ListConflictsReply {
  readonly conflicts: readonly ConflictRecord[];
  readonly nextAfter: string | null;
}

/** Leaves in one ListReplicaLeaves answer when the request gives no limit. */
export const REPLICA_LEAVES_LIMIT_DEFAULT = 1000;
/** The largest limit a ListReplicaLeaves request may give (more answers InvalidArgument). */
export const REPLICA_LEAVES_LIMIT_MAX = 10_000;

/**
 * One leaf of a bucket's anti-entropy Merkle tree (docs/anti-entropy.md): a version (or delete
 * marker) of a key, as the object_versions projection holds it. The tree partitions keys by their
 * id (the SHA-256 of the key), which spreads them evenly, so leaves are listed in key-id order.
 */
export interface ReplicaLeaf {
  /** SHA-256 hex of the key (the key's subject token). */
  readonly keyId: string;
  readonly key: string;
  readonly versionId: string;
  /** Null for delete markers. */
  readonly etag: string | null;
  readonly deleted: boolean;
}
/** Where a page of leaves ends: pass it back as `after` for the next. */
export interface ReplicaLeafPosition {
  readonly keyId: string;
  readonly versionId: string;
}
/**
 * A page of a bucket's leaves in (keyId, versionId) order, optionally only of the keys whose id
 * starts with `keyIdPrefix` (a range of the tree). Read from the projection as it stands (no
 * waiting): a change still being projected shows up in the next comparison. Errors:
 * InvalidArgument (a malformed prefix, position or limit, or an unknown field).
 */
export interface ListReplicaLeavesRequest {
  readonly bucket: string;
  /** 0..64 lowercase hex digits; '' or absent: every key. */
  readonly keyIdPrefix?: string;
  /** Leaves strictly after this position (the previous page's `next`). */
  readonly after?: ReplicaLeafPosition;
  /** Or: the leaves of keys strictly after this key id (all of its versions skipped). Not with `after`. */
  readonly afterKeyId?: string;
  /** 1..REPLICA_LEAVES_LIMIT_MAX, default REPLICA_LEAVES_LIMIT_DEFAULT. */
  readonly limit?: number;
}
export interface ListReplicaLeavesReply {
  readonly leaves: readonly ReplicaLeaf[];
  /** The last leaf's position when more leaves follow in the range; null on the last page. */
  readonly next: ReplicaLeafPosition | null;
  /** The META checkpoint the page was read at (every event up to it projected, none after). */
  readonly asOfSequence: number;
}

/**
 * accesskey.reseal (no request fields): after a master key rotation, every key whose secret is not
 * sealed under the current version (or is plaintext) gets AccessKeySecretResealed. Errors:
 * InvalidRequest when metadata has no keyring. A rerun reseals nothing more.
 */
export interface ResealAccessKeysReply {
  readonly version: string;
  readonly scanned: number;
  readonly resealed: number;
}
