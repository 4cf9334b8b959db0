import { assertNever } from '@cairn/eventing';
import type { BucketEvent } from '@cairn/protocol';
import type { BucketCommand } from '../domain/bucket/bucket.commands';

/**
 * The command that makes another region's bucket change here, or null when the change does not
 * replicate: a bucket's deletion stays in its region (each region empties and deletes its own
 * copy; docs/replication.md says why).
 */
export function bucketCommandFor(event: BucketEvent): BucketCommand | null {
  const { bucket } = event.data;
  switch (event.type) {
    case 'BucketCreated': {
      const d = event.data;
      return {
        type: 'CreateBucket',
        bucket,
        owner: d.owner,
        region: d.region,
        createdAt: d.createdAt,
        versioningEnabled: d.versioning === 'Enabled',
        replication: d.replication,
        defaultStorageClass: d.defaultStorageClass,
        ...(d.objectLockEnabled ? { objectLockEnabled: true } : {}),
        ...(d.objectOwnership !== undefined ? { objectOwnership: d.objectOwnership } : {}),
      };
    }
    case 'BucketVersioningChanged':
      return { type: 'SetBucketVersioning', bucket, versioning: event.data.versioning };
    case 'BucketReplicationChanged':
      return { type: 'SetBucketReplication', bucket, replication: event.data.replication };
    case 'BucketDefaultStorageClassChanged':
      return { type: 'SetBucketDefaultStorageClass', bucket, defaultStorageClass: event.data.defaultStorageClass };
    case 'BucketTagsSet':
      return { type: 'PutBucketTags', bucket, tags: event.data.tags };
    case 'BucketTagsDeleted':
      return { type: 'DeleteBucketTags', bucket };
    case 'BucketOwnerChanged':
      return { type: 'ChangeBucketOwner', bucket, owner: event.data.owner };
    case 'BucketPolicySet':
      return { type: 'PutBucketPolicy', bucket, policy: event.data.policy };
    case 'BucketPolicyDeleted':
      return { type: 'DeleteBucketPolicy', bucket };
    case 'BucketCorsSet':
      return { type: 'PutBucketCors', bucket, cors: event.data.cors };
    case 'BucketCorsDeleted':
      return { type: 'DeleteBucketCors', bucket };
    case 'BucketEncryptionSet':
      return { type: 'PutBucketEncryption', bucket, encryption: event.data.encryption };
    case 'BucketEncryptionDeleted':
      return { type: 'DeleteBucketEncryption', bucket };
    case 'BucketObjectLockConfigured':
      return { type: 'PutObjectLockConfiguration', bucket, objectLock: event.data.objectLock };
    case 'BucketLifecycleSet':
      return { type: 'PutBucketLifecycle', bucket, lifecycle: event.data.lifecycle };
    case 'BucketLifecycleDeleted':
      return { type: 'DeleteBucketLifecycle', bucket };
    case 'BucketAclSet':
      return { type: 'PutBucketAcl', bucket, acl: event.data.acl };
    case 'BucketOwnershipControlsSet':
      return { type: 'PutBucketOwnershipControls', bucket, objectOwnership: event.data.objectOwnership };
    case 'BucketOwnershipControlsDeleted':
      return { type: 'DeleteBucketOwnershipControls', bucket };
    case 'BucketPublicAccessBlockSet':
      return { type: 'PutBucketPublicAccessBlock', bucket, publicAccessBlock: event.data.publicAccessBlock };
    case 'BucketPublicAccessBlockDeleted':
      return { type: 'DeleteBucketPublicAccessBlock', bucket };
    case 'BucketDeletionStarted':
    case 'BucketDeletionCancelled':
    case 'BucketDeleted':
      return null;
    default:
      return assertNever(event, 'bucket event');
  }
}
