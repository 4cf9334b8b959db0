import {
  bucketCorsProblem,
  bucketLifecycleProblem,
  bucketPolicyProblem,
  DEFAULT_STORAGE_CLASS,
  MetadataErrorCodes,
  MetadataLimits,
  READ_STALENESS_SECONDS_MAX,
  validateCorsConfiguration,
  validateLifecycleConfiguration,
  type BucketEncryption,
  type CorsConfiguration,
  type ObjectLockConfiguration,
  type LifecycleConfiguration,
  type ReplicationConfig,
  type StorageClass,
  type Tag,
  type VersioningStatus,
} from '@cairn/protocol';
import { assertNever, type Decider } from '@cairn/eventing';
import { MetadataError } from '../shared/metadata.errors';
import { requireText, validateStorageClass, validateTags } from '../shared/validation';
import { validateBucketName } from './bucket-name';
import { validateBucketEncryption, validateObjectLockConfiguration, withoutObjectLockFlag } from './bucket-data-protection';
import { bucketAccessOnCreate, decideBucketAccess, evolveBucketAccess, isBucketAccessCommand, isBucketAccessEvent, NO_BUCKET_ACCESS_SETTINGS, refusePublicPolicy, type BucketAccess } from './bucket-access';
import type { BucketCommand } from './bucket.commands';
import type { BucketEvent } from './bucket.events';

const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface LiveBucket {
  readonly status: 'live';
  readonly bucket: string;
  readonly owner: string;
  readonly region: string;
  readonly createdAt: string;
  readonly versioning: VersioningStatus;
  readonly replication: ReplicationConfig;
  readonly defaultStorageClass: StorageClass;
  readonly tags: readonly Tag[];
  /** Set while a delete is in progress: the bucket then takes no new keys. */
  readonly deletionId: string | null;
  /** The bucket policy's JSON text, or null when it has none. */
  readonly policy: string | null;
  /** The bucket's CORS configuration, or null when it has none. */
  readonly cors: CorsConfiguration | null;
  /** The bucket's default encryption, or null when it has none. */
  readonly encryption: BucketEncryption | null;
  /** The bucket's Object Lock configuration, or null while Object Lock is off (it is never turned off). */
  readonly objectLock: ObjectLockConfiguration | null;
  /** ACL, Object Ownership, PublicAccessBlock (bucket-access.ts). */
  readonly access: BucketAccess;
  /** The bucket's lifecycle configuration, or null when it has none. */
  readonly lifecycle: LifecycleConfiguration | null;
}

/** Never created, or deleted (a deleted name can be created again on the same subject). */
export type BucketState = { readonly status: 'absent' } | LiveBucket;

/**
 * Emptiness is a fact about other aggregates (the keys), so the delete is two-phase:
 * 1. BeginBucketDeletion seals the bucket: from the seal on, the object shell refuses writes of
 *    new versions to it (OperationAborted). A put that read the bucket before the seal re-reads the
 *    bucket's subject sequence after its own append; if the bucket changed in between it answers
 *    an error, so an acknowledged put was always appended before the seal.
 * 2. DeleteBucket carries the count of versions and delete markers the projection held once it had
 *    projected the seal. Every acknowledged put precedes the seal in the stream, so a zero count
 *    proves the bucket empty; a non-zero count refuses with BucketNotEmpty and the shell cancels.
 * This keeps key writes off the bucket subject (no hot aggregate for a busy bucket), at the cost
 * of one extra subject-sequence read per put.
 */
export const bucketDecider: Decider<BucketCommand, BucketEvent, BucketState> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    if (command.type === 'CreateBucket') {
      validateBucketName(command.bucket);
      if (state.status === 'live') {
        if (state.owner === command.owner) {
          throw new MetadataError(MetadataErrorCodes.BucketAlreadyOwnedByYou, `you already own bucket ${command.bucket}`, { bucket: command.bucket });
        }
        throw new MetadataError(MetadataErrorCodes.BucketAlreadyExists, `bucket ${command.bucket} already exists`, { bucket: command.bucket });
      }
      requireText(command.owner, 'the owner');
      validateRegion(command.region);
      const replication = command.replication ?? { mode: 'local' };
      validateReplication(replication);
      const accessEvents = bucketAccessOnCreate(command.bucket, command.owner, command);
      return [
        {
          type: 'BucketCreated',
          data: {
            bucket: command.bucket,
            owner: command.owner,
            region: command.region,
            createdAt: command.createdAt,
            versioning: command.versioningEnabled || command.objectLockEnabled ? 'Enabled' : 'Unversioned',
            replication,
            defaultStorageClass: validateStorageClass(command.defaultStorageClass ?? DEFAULT_STORAGE_CLASS),
            ...(command.objectLockEnabled ? { objectLockEnabled: true as const } : {}),
            ...(command.objectOwnership !== undefined ? { objectOwnership: command.objectOwnership } : {}),
          },
        },
        ...accessEvents,
      ];
    }
    const live = requireLive(state, command.bucket);
    if (isBucketAccessCommand(command)) return decideBucketAccess(command, live);
    switch (command.type) {
      case 'BeginBucketDeletion':
        requireText(command.deletionId, 'the deletion id');
        if (live.deletionId === command.deletionId) return [];
        if (live.deletionId !== null) throw deletionInProgress(command.bucket);
        return [{ type: 'BucketDeletionStarted', data: { bucket: command.bucket, deletionId: command.deletionId, startedAt: command.startedAt } }];
      case 'DeleteBucket':
        if (live.deletionId !== command.deletionId) throw deletionInProgress(command.bucket);
        if (!Number.isSafeInteger(command.versionCount) || command.versionCount < 0) {
          throw new MetadataError(MetadataErrorCodes.InvalidArgument, `version count ${command.versionCount} is not a count`);
        }
        if (command.versionCount > 0) {
          throw new MetadataError(MetadataErrorCodes.BucketNotEmpty, `bucket ${command.bucket} still holds ${command.versionCount} versions`, {
            bucket: command.bucket,
          });
        }
        return [{ type: 'BucketDeleted', data: { bucket: command.bucket, deletionId: command.deletionId, deletedAt: command.deletedAt } }];
      case 'CancelBucketDeletion':
        if (live.deletionId !== command.deletionId) return [];
        return [{ type: 'BucketDeletionCancelled', data: { bucket: command.bucket, deletionId: command.deletionId } }];
      case 'SetBucketVersioning': {
        const versioning = command.versioning;
        if (versioning !== 'Enabled' && versioning !== 'Suspended') {
          throw new MetadataError(MetadataErrorCodes.IllegalVersioningConfiguration, `versioning can be set to Enabled or Suspended, not "${versioning}"`);
        }
        if (live.versioning === versioning) return [];
        if (live.objectLock !== null) {
          throw new MetadataError(MetadataErrorCodes.InvalidBucketState, 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.', { bucket: command.bucket });
        }
        return [{ type: 'BucketVersioningChanged', data: { bucket: command.bucket, versioning } }];
      }
      case 'SetBucketReplication':
        validateReplication(command.replication);
        if (sameReplication(live.replication, command.replication)) return [];
        return [{ type: 'BucketReplicationChanged', data: { bucket: command.bucket, replication: command.replication } }];
      case 'SetBucketDefaultStorageClass': {
        const defaultStorageClass = validateStorageClass(command.defaultStorageClass);
        if (live.defaultStorageClass === defaultStorageClass) return [];
        return [{ type: 'BucketDefaultStorageClassChanged', data: { bucket: command.bucket, defaultStorageClass } }];
      }
      case 'PutBucketTags':
        validateTags(command.tags, MetadataLimits.bucketTagsMax);
        return [{ type: 'BucketTagsSet', data: { bucket: command.bucket, tags: command.tags } }];
      case 'DeleteBucketTags':
        if (live.tags.length === 0) return [];
        return [{ type: 'BucketTagsDeleted', data: { bucket: command.bucket } }];
      case 'PutBucketPolicy': {
        // A policy that does not parse and validate is never stored: S3's MalformedPolicy, its message.
        const problem = typeof command.policy === 'string' ? bucketPolicyProblem(command.policy, command.bucket) : 'The policy must be a JSON text';
        if (problem !== null) throw new MetadataError(MetadataErrorCodes.MalformedPolicy, problem, { bucket: command.bucket });
        refusePublicPolicy(live.access, command.policy, command.bucket);
        if (live.policy === command.policy) return [];
        return [{ type: 'BucketPolicySet', data: { bucket: command.bucket, policy: command.policy } }];
      }
      case 'DeleteBucketPolicy':
        if (live.policy === null) return [];
        return [{ type: 'BucketPolicyDeleted', data: { bucket: command.bucket } }];
      case 'PutBucketCors': {
        // A configuration that does not validate is never stored: S3's code and message.
        const problem = bucketCorsProblem(command.cors);
        if (problem !== null) throw new MetadataError(problem.code === 'MalformedXML' ? MetadataErrorCodes.MalformedXML : MetadataErrorCodes.InvalidRequest, problem.message, { bucket: command.bucket });
        const cors = validateCorsConfiguration(command.cors);
        if (live.cors !== null && JSON.stringify(live.cors) === JSON.stringify(cors)) return [];
        return [{ type: 'BucketCorsSet', data: { bucket: command.bucket, cors } }];
      }
      case 'DeleteBucketCors':
        if (live.cors === null) return [];
        return [{ type: 'BucketCorsDeleted', data: { bucket: command.bucket } }];
      case 'PutBucketLifecycle': {
        // A configuration that does not validate is never stored: S3's code and message.
        const problem = bucketLifecycleProblem(command.lifecycle);
        if (problem !== null) throw new MetadataError(MetadataErrorCodes[problem.code], problem.message, { bucket: command.bucket });
        const lifecycle = validateLifecycleConfiguration(command.lifecycle);
        if (live.lifecycle !== null && JSON.stringify(live.lifecycle) === JSON.stringify(lifecycle)) return [];
        return [{ type: 'BucketLifecycleSet', data: { bucket: command.bucket, lifecycle } }];
      }
      case 'DeleteBucketLifecycle':
        if (live.lifecycle === null) return [];
        return [{ type: 'BucketLifecycleDeleted', data: { bucket: command.bucket } }];
      case 'PutBucketEncryption': {
        const encryption = validateBucketEncryption(command.encryption);
        if (live.encryption !== null && JSON.stringify(live.encryption) === JSON.stringify(encryption)) return [];
        return [{ type: 'BucketEncryptionSet', data: { bucket: command.bucket, encryption } }];
      }
      case 'DeleteBucketEncryption':
        if (live.encryption === null) return [];
        return [{ type: 'BucketEncryptionDeleted', data: { bucket: command.bucket } }];
      case 'PutObjectLockConfiguration': {
        const objectLock = validateObjectLockConfiguration(command.objectLock);
        // S3: Object Lock can be turned on for a versioned bucket; it then keeps versioning on.
        if (live.objectLock === null && live.versioning !== 'Enabled') {
          throw new MetadataError(MetadataErrorCodes.InvalidBucketState, 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration', { bucket: command.bucket });
        }
        if (live.objectLock !== null && JSON.stringify(live.objectLock) === JSON.stringify(objectLock)) return [];
        return [{ type: 'BucketObjectLockConfigured', data: { bucket: command.bucket, objectLock } }];
      }
      case 'ChangeBucketOwner':
        requireText(command.owner, 'the owner');
        if (live.owner === command.owner) return [];
        return [{ type: 'BucketOwnerChanged', data: { bucket: command.bucket, owner: command.owner } }];
      default:
        return assertNever(command, 'bucket command');
    }
  },

  evolve(state, event) {
    if (event.type === 'BucketCreated') {
      return { status: 'live', ...withoutObjectLockFlag(event.data), encryption: null, objectLock: event.data.objectLockEnabled ? { enabled: true } : null, tags: [], deletionId: null, policy: null, cors: null, lifecycle: null, access: { ...NO_BUCKET_ACCESS_SETTINGS, objectOwnership: event.data.objectOwnership ?? null } };
    }
    if (state.status !== 'live') throw new Error(`${event.type} on bucket ${event.data.bucket}, which does not exist`);
    if (isBucketAccessEvent(event)) return { ...state, access: evolveBucketAccess(state.access, event) };
    switch (event.type) {
      case 'BucketDeletionStarted':
        return { ...state, deletionId: event.data.deletionId };
      case 'BucketDeletionCancelled':
        return { ...state, deletionId: null };
      case 'BucketDeleted':
        return { status: 'absent' };
      case 'BucketVersioningChanged':
        return { ...state, versioning: event.data.versioning };
      case 'BucketReplicationChanged':
        return { ...state, replication: event.data.replication };
      case 'BucketDefaultStorageClassChanged':
        return { ...state, defaultStorageClass: event.data.defaultStorageClass };
      case 'BucketTagsSet':
        return { ...state, tags: event.data.tags };
      case 'BucketTagsDeleted':
        return { ...state, tags: [] };
      case 'BucketOwnerChanged':
        return { ...state, owner: event.data.owner };
      case 'BucketPolicySet':
        return { ...state, policy: event.data.policy };
      case 'BucketPolicyDeleted':
        return { ...state, policy: null };
      case 'BucketCorsSet':
        return { ...state, cors: event.data.cors };
      case 'BucketCorsDeleted':
        return { ...state, cors: null };
      case 'BucketEncryptionSet':
        return { ...state, encryption: event.data.encryption };
      case 'BucketEncryptionDeleted':
        return { ...state, encryption: null };
      case 'BucketObjectLockConfigured':
        return { ...state, objectLock: event.data.objectLock };
      case 'BucketLifecycleSet':
        return { ...state, lifecycle: event.data.lifecycle };
      case 'BucketLifecycleDeleted':
        return { ...state, lifecycle: null };
      default:
        return assertNever(event, 'bucket event');
    }
  },
};

function requireLive(state: BucketState, bucket: string): LiveBucket {
  if (state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
  return state;
}

function deletionInProgress(bucket: string): MetadataError {
  return new MetadataError(MetadataErrorCodes.OperationAborted, `a conflicting delete of bucket ${bucket} is in progress`, { bucket });
}

function validateRegion(region: string): void {
  if (!REGION_PATTERN.test(region)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${region}" is not a region id`);
}

function validateReplication(replication: ReplicationConfig): void {
  switch (replication.mode) {
    case 'local':
    case 'active-active':
      return;
    case 'active-passive': {
      validateRegion(replication.homeRegion);
      const bound = replication.readStalenessSeconds;
      if (bound !== undefined && (!Number.isInteger(bound) || bound < 1 || bound > READ_STALENESS_SECONDS_MAX)) {
        throw new MetadataError(MetadataErrorCodes.InvalidArgument, `a read staleness bound is whole seconds from 1 to ${READ_STALENESS_SECONDS_MAX}, not ${String(bound)}`);
      }
      return;
    }
    default: {
      const unknown: never = replication;
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `unknown replication mode ${JSON.stringify(unknown)}`);
    }
  }
}

function sameReplication(a: ReplicationConfig, b: ReplicationConfig): boolean {
  if (a.mode === 'active-passive' && b.mode === 'active-passive') return a.homeRegion === b.homeRegion && a.readStalenessSeconds === b.readStalenessSeconds;
  return a.mode === b.mode;
}
