import type { AccessControlList } from '@cairn/protocol';
import type { ObjectAclRules } from '../object-key/object-acl';
import type { ContentHeaders, MultipartPartUploaded, RequestedPart, StorageClass, Tag, UploadChecksum, UserMetadata } from '@cairn/protocol';
import type { InBucketLife } from '../object-key/object-key.commands';
import type { ObjectEncryption, ObjectRetention } from '@cairn/protocol';

/* The multipart upload decider's commands: metadata's own (the shell builds them from RPC requests); they never cross a service boundary. */

/**
 * Initiate, UploadPart and Complete carry the bucket life the shell read (InBucketLife): an upload
 * lives in the life it was initiated in, and a bucket name deleted and created again never lets
 * an upload of its earlier life take parts or complete.
 */
export interface InitiateMultipartUpload extends InBucketLife {
  readonly type: 'InitiateMultipartUpload';
  readonly bucket: string;
  readonly key: string;
  readonly keyId: string;
  readonly uploadId: string;
  readonly owner: string;
  readonly initiatedAt: string;
  readonly contentType: string;
  readonly userMetadata: UserMetadata;
  readonly contentHeaders?: ContentHeaders;
  readonly storageClass: StorageClass;
  readonly tags?: readonly Tag[];
  readonly checksum?: UploadChecksum;
  readonly encryption?: ObjectEncryption;
  readonly retention?: ObjectRetention;
  readonly legalHold?: boolean;
  /** The completed version's ACL, checked against the bucket's rules as a put's is. */
  readonly acl?: AccessControlList;
  readonly aclRules?: ObjectAclRules;
}

/** Carries what MultipartPartUploaded records; its etag is the hex MD5 of the part's bytes, unquoted. */
export type UploadPart = InBucketLife & MultipartPartUploaded['data'] & { readonly type: 'UploadPart' };

export interface CompleteMultipartUpload extends InBucketLife {
  readonly type: 'CompleteMultipartUpload';
  readonly bucket: string;
  readonly uploadId: string;
  readonly parts: readonly RequestedPart[];
  /** The version id the object gets if the bucket is versioned. */
  readonly versionId: string;
  readonly completedAt: string;
}

export interface AbortMultipartUpload {
  readonly type: 'AbortMultipartUpload';
  readonly bucket: string;
  readonly uploadId: string;
  readonly abortedAt: string;
}

/** Reopens a completed upload whose version the key refused; only the shell sends it, never a client. */
export interface WithdrawUploadCompletion {
  readonly type: 'WithdrawUploadCompletion';
  readonly bucket: string;
  readonly uploadId: string;
  /** The completion to withdraw: a later completion (another version id) is left alone. */
  readonly versionId: string;
  readonly withdrawnAt: string;
}

export type MultipartUploadCommand = InitiateMultipartUpload | UploadPart | CompleteMultipartUpload | WithdrawUploadCompletion | AbortMultipartUpload;
