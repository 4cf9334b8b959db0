import type { Checksums, ChunkRef, ContentHeaders, StorageClass, Tag, UserMetadata } from './common';
import type { ObjectEncryption, ObjectRetention } from './data-protection';
import type { AccessControlList } from '../acl/acl.types';

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

/**
 * Where a change of a key was made and what it had seen: how replication orders a key's changes
 * across regions (docs/replication.md). Absent on changes written before regions federated.
 */
export interface KeyChangeProvenance {
  /** The region that accepted the change. */
  readonly region?: string;
  /**
   * The key's version vector after this change: per region, how many of the key's changes made
   * there this one follows (its own included). Two changes whose vectors are not ordered are
   * concurrent: a conflict, resolved by highest HLC, then region.
   */
  readonly vector?: Readonly<Record<string, number>>;
}

/** A version or delete marker that arrived from another region and lost to the current one: it goes in below it. */
export interface ArrivalPlacement {
  readonly noncurrent?: true;
}

/** Everything a stored (non delete marker) version is. */
export interface ObjectVersionData extends ObjectKeyRef, BucketLife, KeyChangeProvenance, ArrivalPlacement {
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
  /** How the version's chunks are encrypted (docs/encryption.md); absent: stored as sent. */
  readonly encryption?: ObjectEncryption;
  /** Object Lock retention given at write (header or the bucket's default); absent: none. */
  readonly retention?: ObjectRetention;
  /** Object Lock legal hold given at write. */
  readonly legalHold?: boolean;
  /**
   * The version's ACL (its ownerId is the object's owner: the writer, or the bucket owner as Object
   * Ownership says). Absent: private, owned by the bucket's owner — what every version written
   * before object ACLs were stored is, and what a write without an ACL to a bucket whose owner
   * owns its objects stores.
   */
  readonly acl?: AccessControlList;
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
  readonly data: ObjectKeyRef & BucketLife & KeyChangeProvenance & ArrivalPlacement & { readonly versionId: string; readonly hlc: string; readonly lastModified: string };
}

/**
 * A version (or delete marker) removed for good. When it was the current one, the newest remaining
 * version becomes current. `newCurrentVersionId` is the key's current version after the delete,
 * changed or not (null when none remain).
 */
export interface ObjectVersionDeleted {
  readonly type: 'ObjectVersionDeleted';
  readonly data: ObjectKeyRef & BucketLife & KeyChangeProvenance & {
    readonly versionId: string;
    /** The HLC of the version removed: which `null` version it was, when regions each wrote one. */
    readonly versionHlc?: string;
    readonly wasDeleteMarker: boolean;
    readonly wasCurrent: boolean;
    readonly newCurrentVersionId: string | null;
  };
}

export interface ObjectTagsSet {
  readonly type: 'ObjectTagsSet';
  readonly data: ObjectKeyRef & BucketLife & KeyChangeProvenance & { readonly versionId: string; readonly tags: readonly Tag[] };
}

export interface ObjectTagsDeleted {
  readonly type: 'ObjectTagsDeleted';
  readonly data: ObjectKeyRef & BucketLife & KeyChangeProvenance & { readonly versionId: string };
}

/** One side of a conflict: a version, a delete marker, or the removal of an unversioned key's null version. */
export interface ConflictSide {
  readonly versionId: string;
  readonly region: string;
  readonly hlc: string;
  readonly kind: 'version' | 'delete-marker' | 'delete';
}

/**
 * Two concurrent changes of a key (version vectors not ordered), made in different regions, met
 * here; the winner is the one with the highest HLC, then the highest region id, in every region.
 * The loser is kept as a noncurrent version — under `loserVersionId`, which differs from its own
 * id only when both were the `null` version of an unversioned or suspended bucket. A losing delete
 * keeps nothing (the version it removed is gone; the winner stays). `conflictId` is the same in
 * every region, so a conflict is logged once whichever side saw it first.
 */
export interface ConflictResolved {
  readonly type: 'ConflictResolved';
  readonly data: ObjectKeyRef &
    BucketLife & {
      readonly conflictId: string;
      readonly winner: ConflictSide;
      readonly loser: ConflictSide;
      readonly loserVersionId: string | null;
      /**
       * Set when the loser is the version already here: it is renamed (from `null`, at its HLC)
       * before the winner goes on top. Absent when the loser is the change that arrived.
       */
      readonly renamed?: { readonly from: string; readonly to: string; readonly hlc: string };
      readonly resolvedAt: string;
    };
}

/**
 * Another region's change of the key that changes nothing here (it removed a version this region
 * no longer has, or tagged one): recorded so that the key's version vector still counts it, and
 * the region's next change of the key is seen to follow it.
 */
export interface ReplicatedChangeSkipped {
  readonly type: 'ReplicatedChangeSkipped';
  readonly data: ObjectKeyRef & BucketLife & KeyChangeProvenance & { readonly changeType: string; readonly versionId: string; readonly reason: string };
}

/**
 * A version's bytes now live in another storage class: its chunk list is swapped for the re-stored
 * one (same bytes, same offsets; the old chunks go to garbage collection). Each region's own record
 * of its layout, like ConflictResolved: it carries no provenance and does not replicate.
 */
export interface ObjectVersionStorageClassChanged {
  readonly type: 'ObjectVersionStorageClassChanged';
  readonly data: ObjectKeyRef &
    BucketLife & {
      readonly versionId: string;
      readonly previousStorageClass: StorageClass;
      readonly storageClass: StorageClass;
      readonly chunks: readonly ChunkRef[];
      readonly changedAt: string;
    };
}

/**
 * A version's Object Lock changed (PutObjectRetention / PutObjectLegalHold): each field present
 * is the new value (`retention: null` removes a GOVERNANCE retention, with bypass).
 */
export interface ObjectLockChanged {
  readonly type: 'ObjectLockChanged';
  readonly data: ObjectKeyRef & BucketLife & KeyChangeProvenance & {
    readonly versionId: string;
    readonly retention?: ObjectRetention | null;
    readonly legalHold?: boolean;
  };
}

/**
 * A version's data key wrapped again under another key-encryption key (master key rotation): the
 * chunks are untouched, only ObjectEncryption's wrappedKey and keyId change.
 */
export interface ObjectDataKeyRewrapped {
  readonly type: 'ObjectDataKeyRewrapped';
  readonly data: ObjectKeyRef & BucketLife & { readonly versionId: string; readonly encryption: ObjectEncryption };
}

/** A version's ACL replaced (PutObjectAcl); its owner stays who it was. */
export interface ObjectAclSet {
  readonly type: 'ObjectAclSet';
  readonly data: ObjectKeyRef & BucketLife & KeyChangeProvenance & { readonly versionId: string; readonly acl: AccessControlList };
}

export type ObjectKeyEvent =
  | ObjectVersionStorageClassChanged
  | ObjectVersionPut
  | ObjectVersionCopied
  | DeleteMarkerPut
  | ObjectVersionDeleted
  | ObjectTagsSet
  | ObjectTagsDeleted
  | ObjectAclSet
  | ConflictResolved
  | ReplicatedChangeSkipped
  | ObjectLockChanged
  | ObjectDataKeyRewrapped;
