import { subjectsFor } from '../subjects';
import type { AccessKeyEvent } from './access-key.events';
import { BucketAccessEventSchemaVersions } from './bucket-access.events';
import type { UserEvent } from './user.events';
import type { BucketEvent } from './bucket.events';
import type { MembershipEvent } from './membership.events';
import type { ObjectKeyEvent } from './object.events';
import type { MultipartUploadEvent } from './upload.events';

export type MetadataEvent = BucketEvent | ObjectKeyEvent | MultipartUploadEvent | AccessKeyEvent | MembershipEvent | UserEvent;
export type MetadataEventType = MetadataEvent['type'];

/**
 * The current schema version of every metadata event type; bump one with an upcaster beside it
 * (metadata.upcasters.ts; upcasting.ts says how).
 */
export const MetadataEventSchemaVersions: Readonly<Record<MetadataEventType, number>> = {
  BucketCreated: 2,
  BucketDeletionStarted: 1,
  BucketDeletionCancelled: 1,
  BucketDeleted: 1,
  BucketVersioningChanged: 1,
  BucketReplicationChanged: 1,
  BucketDefaultStorageClassChanged: 2,
  BucketTagsSet: 1,
  BucketTagsDeleted: 1,
  BucketOwnerChanged: 1,
  BucketPolicySet: 1,
  BucketPolicyDeleted: 1,
  BucketCorsSet: 1,
  BucketCorsDeleted: 1,
  BucketEncryptionSet: 1,
  BucketEncryptionDeleted: 1,
  BucketObjectLockConfigured: 1,
  ...BucketAccessEventSchemaVersions,
  BucketLifecycleSet: 1,
  BucketLifecycleDeleted: 1,
  ObjectVersionPut: 3,
  ObjectVersionCopied: 3,
  DeleteMarkerPut: 1,
  ObjectVersionDeleted: 1,
  ObjectTagsSet: 1,
  ObjectTagsDeleted: 1,
  ObjectAclSet: 1,
  ObjectVersionStorageClassChanged: 1,
  ConflictResolved: 1,
  ReplicatedChangeSkipped: 1,
  ObjectLockChanged: 1,
  ObjectDataKeyRewrapped: 1,
  MultipartUploadInitiated: 3,
  MultipartPartUploaded: 1,
  MultipartUploadCompleted: 1,
  MultipartUploadCompletionWithdrawn: 3,
  MultipartUploadAborted: 1,
  AccessKeyCreated: 3,
  AccessKeyRevoked: 1,
  AccessKeySecretResealed: 1,
  UserCreated: 1,
  StorageNodeJoined: 1,
  StorageNodeWeightChanged: 1,
  StorageNodeDrained: 1,
  StorageNodeRemoved: 1,
};

export const METADATA_EVENT_TYPES = Object.keys(MetadataEventSchemaVersions) as readonly MetadataEventType[];

export function isMetadataEventType(type: string): type is MetadataEventType {
  return Object.prototype.hasOwnProperty.call(MetadataEventSchemaVersions, type);
}

/**
 * The one subject of all storage-node membership events. A single subject makes the ring epoch a
 * plain count of its events and lets optimistic concurrency order membership changes globally.
 */
export function membershipSubject(ns: string): string {
  return subjectsFor(ns).prefix('cluster.membership');
}
