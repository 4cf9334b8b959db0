import type { Checksums, ChunkRef, StorageClass, Tag, UserMetadata } from './common';

export interface MultipartUploadInitiated {
  readonly type: 'MultipartUploadInitiated';
  readonly data: {
    readonly bucket: string;
    readonly key: string;
    readonly keyId: string;
    readonly uploadId: string;
    readonly owner: string;
    readonly initiatedAt: string;
    readonly contentType: string;
    readonly userMetadata: UserMetadata;
    readonly storageClass: StorageClass;
    readonly tags: readonly Tag[];
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

export type MultipartUploadEvent = MultipartUploadInitiated | MultipartPartUploaded | MultipartUploadCompleted | MultipartUploadAborted;
