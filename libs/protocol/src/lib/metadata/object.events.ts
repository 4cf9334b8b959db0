import type { Checksums, ChunkRef, ContentHeaders, StorageClass, Tag, UserMetadata } from './common';

/** Where an object key's events go: keyId is the SHA-256 hex of the key's UTF-8 bytes. */
export interface ObjectKeyRef {
  readonly bucket: string;
  readonly key: string;
  readonly keyId: string;
}

/**
 * The life of the bucket an object-key or upload event was written in: the stream sequence of the
 * bucket's BucketCreated event as the writing shell read it. A bucket name deleted and created
 * again starts a new life, and events of an older life (history from before the delete, or a write
 * that raced the delete and was never acknowledged) no longer count for the key. Absent on events
 * written before incarnations were recorded: those belong to whatever life the key is in.
 */
export interface BucketLife {
  readonly incarnation?: number;
}

/** Everything a stored (non delete marker) version is. */
export interface ObjectVersionData extends ObjectKeyRef, BucketLife {
  readonly versionId: string;
  readonly sizeBytes: number;
  /** Hex MD5 of the body, or S3's multipart etag (`<hex>-<parts>`); never quoted. */
  readonly etag: string;
  readonly checksums: Checksums;
  readonly contentType: string;
  readonly userMetadata: UserMetadata;
  /** `{}` when none were given. */
  readonly contentHeaders: ContentHeaders;
  readonly chunks: readonly ChunkRef[];
  /**
   * The byte size of each part, in part order, of a version completed from a multipart upload (or
   * copied from one): GET ?partNumber=N serves part N. Absent on single-part versions, and on
   * multipart versions written before part sizes were recorded.
   */
  readonly partSizes?: readonly number[];
  readonly storageClass: StorageClass;
  readonly tags: readonly Tag[];
  /** HLC of the write (encodeHlc in @cairn/hashing); orders concurrent versions across regions. */
  readonly hlc: string;
  readonly lastModified: string;
}

/** A new current version. A `null` versionId replaces the key's existing null version, if any. */
export interface ObjectVersionPut {
  readonly type: 'ObjectVersionPut';
  readonly data: ObjectVersionData & {
    /** Set when the version is the result of completing a multipart upload. */
    readonly uploadId?: string;
  };
}

export interface ObjectVersionCopied {
  readonly type: 'ObjectVersionCopied';
  readonly data: ObjectVersionData & {
    readonly source: { readonly bucket: string; readonly key: string; readonly versionId: string };
  };
}

/** A new current version that is a delete marker; a `null` one replaces the null version. */
export interface DeleteMarkerPut {
  readonly type: 'DeleteMarkerPut';
  readonly data: ObjectKeyRef & BucketLife & { readonly versionId: string; readonly hlc: string; readonly lastModified: string };
}

/**
 * A version (or delete marker) removed for good. When it was the current one, the newest remaining
 * version becomes current. `newCurrentVersionId` is the key's current version after the delete,
 * changed or not (null when none remain).
 */
export interface ObjectVersionDeleted {
  readonly type: 'ObjectVersionDeleted';
  readonly data: ObjectKeyRef & BucketLife & {
    readonly versionId: string;
    readonly wasDeleteMarker: boolean;
    readonly wasCurrent: boolean;
    readonly newCurrentVersionId: string | null;
  };
}

export interface ObjectTagsSet {
  readonly type: 'ObjectTagsSet';
  readonly data: ObjectKeyRef & BucketLife & { readonly versionId: string; readonly tags: readonly Tag[] };
}

export interface ObjectTagsDeleted {
  readonly type: 'ObjectTagsDeleted';
  readonly data: ObjectKeyRef & BucketLife & { readonly versionId: string };
}

export type ObjectKeyEvent =
  | ObjectVersionPut
  | ObjectVersionCopied
  | DeleteMarkerPut
  | ObjectVersionDeleted
  | ObjectTagsSet
  | ObjectTagsDeleted;
