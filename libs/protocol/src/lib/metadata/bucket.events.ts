import type { CorsConfiguration } from '../bucket-cors/bucket-cors.config';
import type { LifecycleConfiguration } from '../bucket-lifecycle/bucket-lifecycle.config';
import type { ReplicationConfig, StorageClass, Tag, VersioningStatus } from './common';
import type { BucketEncryption, ObjectLockConfiguration } from './data-protection';
import type { BucketAccessEvent } from './bucket-access.events';
import type { ObjectOwnership } from '../acl/acl.types';

/** What a bucket is created with, and what its view (BucketView) shows of it. */
export interface BucketSettings {
  readonly owner: string;
  /** The region the bucket was created in; the home region of an active-passive bucket by default. */
  readonly region: string;
  readonly createdAt: string;
  readonly versioning: VersioningStatus;
  readonly replication: ReplicationConfig;
  readonly defaultStorageClass: StorageClass;
  /**
   * The bucket's S3 Object Ownership as created (x-amz-object-ownership, BucketOwnerEnforced by
   * default through S3) and as ownership controls changed it since; absent: none (a bucket from
   * before ownership controls, or after DeleteBucketOwnershipControls), which behaves as ObjectWriter.
   */
  readonly objectOwnership?: ObjectOwnership;
}

export interface BucketCreated {
  readonly type: 'BucketCreated';
  /** objectLockEnabled: created with x-amz-bucket-object-lock-enabled (versioning is then Enabled). */
  readonly data: BucketSettings & { readonly bucket: string; readonly objectLockEnabled?: true };
}

/** Phase one of a delete: the bucket refuses new keys until the delete completes or is cancelled. */
export interface BucketDeletionStarted {
  readonly type: 'BucketDeletionStarted';
  readonly data: { readonly bucket: string; readonly deletionId: string; readonly startedAt: string };
}

export interface BucketDeletionCancelled {
  readonly type: 'BucketDeletionCancelled';
  readonly data: { readonly bucket: string; readonly deletionId: string };
}

export interface BucketDeleted {
  readonly type: 'BucketDeleted';
  readonly data: { readonly bucket: string; readonly deletionId: string; readonly deletedAt: string };
}

export interface BucketVersioningChanged {
  readonly type: 'BucketVersioningChanged';
  readonly data: { readonly bucket: string; readonly versioning: Exclude<VersioningStatus, 'Unversioned'> };
}

export interface BucketReplicationChanged {
  readonly type: 'BucketReplicationChanged';
  readonly data: { readonly bucket: string; readonly replication: ReplicationConfig };
}

export interface BucketDefaultStorageClassChanged {
  readonly type: 'BucketDefaultStorageClassChanged';
  readonly data: { readonly bucket: string; readonly defaultStorageClass: StorageClass };
}

export interface BucketTagsSet {
  readonly type: 'BucketTagsSet';
  readonly data: { readonly bucket: string; readonly tags: readonly Tag[] };
}

export interface BucketTagsDeleted {
  readonly type: 'BucketTagsDeleted';
  readonly data: { readonly bucket: string };
}

export interface BucketOwnerChanged {
  readonly type: 'BucketOwnerChanged';
  readonly data: { readonly bucket: string; readonly owner: string };
}

/** The bucket's policy, stored as the JSON text the owner put (validated by parseBucketPolicy first). */
export interface BucketPolicySet {
  readonly type: 'BucketPolicySet';
  readonly data: { readonly bucket: string; readonly policy: string };
}

export interface BucketPolicyDeleted {
  readonly type: 'BucketPolicyDeleted';
  readonly data: { readonly bucket: string };
}

/** The bucket's CORS configuration (validated by validateCorsConfiguration first); a put replaces it whole. */
export interface BucketCorsSet {
  readonly type: 'BucketCorsSet';
  readonly data: { readonly bucket: string; readonly cors: CorsConfiguration };
}

export interface BucketCorsDeleted {
  readonly type: 'BucketCorsDeleted';
  readonly data: { readonly bucket: string };
}

/** The bucket's lifecycle configuration (validated by validateLifecycleConfiguration first); a put replaces it whole. */
export interface BucketLifecycleSet {
  readonly type: 'BucketLifecycleSet';
  readonly data: { readonly bucket: string; readonly lifecycle: LifecycleConfiguration };
}

export interface BucketLifecycleDeleted {
  readonly type: 'BucketLifecycleDeleted';
  readonly data: { readonly bucket: string };
}

/** The bucket's default encryption (PutBucketEncryption); a put replaces it whole. */
export interface BucketEncryptionSet {
  readonly type: 'BucketEncryptionSet';
  readonly data: { readonly bucket: string; readonly encryption: BucketEncryption };
}

export interface BucketEncryptionDeleted {
  readonly type: 'BucketEncryptionDeleted';
  readonly data: { readonly bucket: string };
}

/** The bucket's Object Lock configuration (PutObjectLockConfiguration): enabled for good, with its default retention. */
export interface BucketObjectLockConfigured {
  readonly type: 'BucketObjectLockConfigured';
  readonly data: { readonly bucket: string; readonly objectLock: ObjectLockConfiguration };
}

export type BucketEvent =
  | BucketAccessEvent
  | BucketCreated
  | BucketDeletionStarted
  | BucketDeletionCancelled
  | BucketDeleted
  | BucketVersioningChanged
  | BucketReplicationChanged
  | BucketDefaultStorageClassChanged
  | BucketTagsSet
  | BucketTagsDeleted
  | BucketOwnerChanged
  | BucketPolicySet
  | BucketPolicyDeleted
  | BucketCorsSet
  | BucketCorsDeleted
  | BucketEncryptionSet
  | BucketEncryptionDeleted
  | BucketObjectLockConfigured
  | BucketLifecycleSet
  | BucketLifecycleDeleted;
