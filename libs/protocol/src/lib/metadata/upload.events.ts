import type { Checksums, ChunkRef, ContentHeaders, StorageClass, Tag, UploadChecksum, UserMetadata } from './common';
import type { BucketLife } from './object.events';
import type { ObjectEncryption, ObjectRetention } from './data-protection';
import type { AccessControlList } from '../acl/acl.types';

/** Records the bucket life it was initiated in (BucketLife; absent on uploads initiated before lives were recorded). */
export interface MultipartUploadInitiated {
  readonly type: 'MultipartUploadInitiated';
  readonly data: BucketLife & {
    readonly bucket: string;
    readonly key: string;
    readonly keyId: string;
    readonly uploadId: string;
    readonly owner: string;
    readonly initiatedAt: string;
    readonly contentType: string;
    readonly userMetadata: UserMetadata;
    /** `{}` when none were given. */
    readonly contentHeaders: ContentHeaders;
    readonly storageClass: StorageClass;
    readonly tags: readonly Tag[];
    /** Absent when the client named no checksum algorithm (and on uploads initiated before it was recorded). */
    readonly checksum?: UploadChecksum;
    /** The completed version's encryption: its parts' chunks are encrypted under this data key. */
    readonly encryption?: ObjectEncryption;
    /** The completed version's Object Lock retention and legal hold (x-amz-object-lock-* at initiation). */
    readonly retention?: ObjectRetention;
    readonly legalHold?: boolean;
    /** The completed version's ACL (x-amz-acl / x-amz-grant-* at initiation); absent: the bucket owner's private. */
    readonly acl?: AccessControlList;
  };
}

/** A part (re-)uploaded; a later upload of the same part number replaces it. */
export interface MultipartPartUploaded {
  readonly type: 'MultipartPartUploaded';
  readonly data: {
    readonly bucket: string;
    readonly uploadId: string;
    readonly partNumber: number;
    readonly etag: string;
    readonly sizeBytes: number;
    readonly checksums: Checksums;
    readonly chunks: readonly ChunkRef[];
    readonly lastModified: string;
  };
}

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly sizeBytes: number;
}

/** The upload's parts are frozen into one object version: S3's multipart etag, chunks re-based. */
export interface MultipartUploadCompleted {
  readonly type: 'MultipartUploadCompleted';
  readonly data: {
    readonly bucket: string;
    readonly key: string;
    readonly keyId: string;
    readonly uploadId: string;
    readonly versionId: string;
    readonly etag: string;
    readonly sizeBytes: number;
    readonly chunks: readonly ChunkRef[];
    readonly parts: readonly CompletedPart[];
    readonly completedAt: string;
  };
}

export interface MultipartUploadAborted {
  readonly type: 'MultipartUploadAborted';
  readonly data: { readonly bucket: string; readonly uploadId: string; readonly abortedAt: string };
}

/**
 * A completion whose object version was refused by the key (a conditional complete that lost its
 * precondition) is withdrawn: the upload is open again with every part it had, as S3 leaves an
 * upload whose CompleteMultipartUpload answered 412, so the client may complete it again or abort
 * it. It carries the upload as it stood, so that projections dropped at completion can restore it.
 */
export interface MultipartUploadCompletionWithdrawn {
  readonly type: 'MultipartUploadCompletionWithdrawn';
  readonly data: {
    readonly bucket: string;
    readonly uploadId: string;
    /** The version id of the withdrawn completion, which was never put on the key. */
    readonly versionId: string;
    readonly withdrawnAt: string;
    readonly upload: MultipartUploadInitiated['data'];
    /** Every uploaded part, ascending by part number. */
    readonly parts: readonly Omit<MultipartPartUploaded['data'], 'bucket' | 'uploadId'>[];
  };
}

export type MultipartUploadEvent =
  | MultipartUploadInitiated
  | MultipartPartUploaded
  | MultipartUploadCompleted
  | MultipartUploadCompletionWithdrawn
  | MultipartUploadAborted;
