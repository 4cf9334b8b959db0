import type { BucketEncryption, ObjectEncryption, ObjectLockConfiguration, ObjectRetention } from './data-protection';
import type { CommandReply } from './metadata.rpc';

/* The metadata RPCs of encryption at rest and Object Lock (MetadataRpc names them). */

/** bucket.encryption.put; read back with getBucket. Errors: NoSuchBucket, InvalidArgument. */
export interface PutBucketEncryptionRequest {
  readonly bucket: string;
  readonly encryption: BucketEncryption;
}
export interface DeleteBucketEncryptionRequest {
  readonly bucket: string;
}

/**
 * bucket.object-lock.put: turns Object Lock on (needs versioning Enabled: InvalidBucketState
 * otherwise) and sets or clears the default retention. Never turns it off.
 */
export interface PutObjectLockConfigurationRequest {
  readonly bucket: string;
  readonly objectLock: ObjectLockConfiguration;
}

/**
 * object.lock.put: a version's retention and/or legal hold. Errors: InvalidRequest (the bucket has
 * no Object Lock), NoSuchKey / NoSuchVersion, MethodNotAllowed (a delete marker), ObjectLocked
 * (COMPLIANCE shortened, or GOVERNANCE shortened without bypass).
 */
export interface PutObjectLockRequest {
  readonly bucket: string;
  readonly key: string;
  /** The current version when absent. */
  readonly versionId?: string;
  /** Present: the new retention (null removes it). Absent: retention unchanged. */
  readonly retention?: ObjectRetention | null;
  /** Present: the new legal hold. */
  readonly legalHold?: boolean;
  readonly bypassGovernanceRetention?: boolean;
}
export interface PutObjectLockReply extends CommandReply {
  readonly versionId: string;
}

/** object.key.rewrap: only while the version still has `fromKeyId` (else nothing changes). */
export interface RewrapObjectKeyRequest {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly fromKeyId: string;
  readonly encryption: ObjectEncryption;
}
export interface RewrapObjectKeyReply extends CommandReply {
  readonly rewrapped: boolean;
}

/** upload.get: read from the upload's own subject. Errors: NoSuchUpload. */
export interface GetUploadRequest {
  readonly bucket: string;
  readonly uploadId: string;
}
export interface GetUploadReply {
  readonly key: string;
  readonly encryption?: ObjectEncryption;
}
