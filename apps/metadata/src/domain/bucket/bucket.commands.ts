import type { BucketEncryption, ObjectLockConfiguration } from '@cairn/protocol';
import type { CorsConfiguration } from '@cairn/protocol';
import type { AccessControlList, ObjectOwnership, ReplicationConfig, StorageClass, Tag } from '@cairn/protocol';
import type { BucketAccessCommand } from './bucket-access';
import type { LifecycleConfiguration } from '@cairn/protocol';

/* The bucket decider's commands: metadata's own (the shell builds them from RPC requests); they never cross a service boundary. */

export interface CreateBucket {
  readonly type: 'CreateBucket';
  /** x-amz-bucket-object-lock-enabled: Object Lock on from the start, versioning Enabled. */
  readonly objectLockEnabled?: boolean;
  readonly bucket: string;
  readonly owner: string;
  readonly region: string;
  readonly createdAt: string;
  /** S3's x-amz-bucket-object-lock-enabled aside, a bucket may start versioned. */
  readonly versioningEnabled?: boolean;
  readonly replication?: ReplicationConfig;
  readonly defaultStorageClass?: StorageClass;
  /** x-amz-object-ownership; absent: BucketOwnerEnforced. */
  readonly objectOwnership?: ObjectOwnership;
  /** From x-amz-acl / x-amz-grant-*; absent or owner-only: private. */
  readonly acl?: AccessControlList;
}

/**
 * Deleting a bucket is two commands, because emptiness is a fact about other aggregates (the keys):
 * BeginBucketDeletion seals the bucket against new keys, then DeleteBucket carries the number of
 * versions and uploads the projection counted after the seal was projected.
 */
export interface BeginBucketDeletion {
  readonly type: 'BeginBucketDeletion';
  readonly bucket: string;
  readonly deletionId: string;
  readonly startedAt: string;
}

export interface DeleteBucket {
  readonly type: 'DeleteBucket';
  readonly bucket: string;
  readonly deletionId: string;
  /** Versions and delete markers in the bucket, counted by the projection after the seal. */
  readonly versionCount: number;
  readonly deletedAt: string;
}

export interface CancelBucketDeletion {
  readonly type: 'CancelBucketDeletion';
  readonly bucket: string;
  readonly deletionId: string;
}

export interface SetBucketVersioning {
  readonly type: 'SetBucketVersioning';
  readonly bucket: string;
  /** A string, not the narrowed union: requests carry what clients send, and the decider refuses the rest. */
  readonly versioning: string;
}

export interface SetBucketReplication {
  readonly type: 'SetBucketReplication';
  readonly bucket: string;
  readonly replication: ReplicationConfig;
}

export interface SetBucketDefaultStorageClass {
  readonly type: 'SetBucketDefaultStorageClass';
  readonly bucket: string;
  readonly defaultStorageClass: string;
}

export interface PutBucketTags {
  readonly type: 'PutBucketTags';
  readonly bucket: string;
  readonly tags: readonly Tag[];
}

export interface DeleteBucketTags {
  readonly type: 'DeleteBucketTags';
  readonly bucket: string;
}

export interface PutBucketPolicy {
  readonly type: 'PutBucketPolicy';
  readonly bucket: string;
  /** The policy's JSON text, as the client sent it. */
  readonly policy: string;
}

export interface DeleteBucketPolicy {
  readonly type: 'DeleteBucketPolicy';
  readonly bucket: string;
}

export interface PutBucketCors {
  readonly type: 'PutBucketCors';
  readonly bucket: string;
  /** The configuration as parsed from the client's XML; validated again here. */
  readonly cors: CorsConfiguration;
}

export interface DeleteBucketCors {
  readonly type: 'DeleteBucketCors';
  readonly bucket: string;
}

export interface ChangeBucketOwner {
  readonly type: 'ChangeBucketOwner';
  readonly bucket: string;
  readonly owner: string;
}

export interface PutBucketLifecycle {
  readonly type: 'PutBucketLifecycle';
  readonly bucket: string;
  /** The configuration as parsed from the client's XML; validated again here. */
  readonly lifecycle: LifecycleConfiguration;
}

export interface DeleteBucketLifecycle {
  readonly type: 'DeleteBucketLifecycle';
  readonly bucket: string;
}

export interface PutBucketEncryption {
  readonly type: 'PutBucketEncryption';
  readonly bucket: string;
  readonly encryption: BucketEncryption;
}

export interface DeleteBucketEncryption {
  readonly type: 'DeleteBucketEncryption';
  readonly bucket: string;
}

export interface PutObjectLockConfiguration {
  readonly type: 'PutObjectLockConfiguration';
  readonly bucket: string;
  readonly objectLock: ObjectLockConfiguration;
}

export type BucketCommand =
  | PutBucketEncryption
  | DeleteBucketEncryption
  | PutObjectLockConfiguration
  | BucketAccessCommand
  | CreateBucket
  | BeginBucketDeletion
  | DeleteBucket
  | CancelBucketDeletion
  | SetBucketVersioning
  | SetBucketReplication
  | SetBucketDefaultStorageClass
  | PutBucketTags
  | DeleteBucketTags
  | ChangeBucketOwner
  | PutBucketPolicy
  | DeleteBucketPolicy
  | PutBucketCors
  | DeleteBucketCors
  | PutBucketLifecycle
  | DeleteBucketLifecycle;
