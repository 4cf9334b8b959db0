import type { AccessControlList, ObjectEncryption, ObjectRetention } from '@cairn/protocol';
import type { ObjectAclRules } from './object-acl';
import type { Checksums, ChunkRef, ContentHeaders, ObjectKeyEvent, ObjectKeyRef, StorageClass, Tag, UserMetadata, VersioningStatus } from '@cairn/protocol';
import type { ExpectedVersion } from '@cairn/protocol';

/* The object key decider's commands: metadata's own (the shell builds them from RPC requests); they never cross a service boundary. */

/** S3 conditional-write headers; `ifNoneMatch: '*'` makes a racing create have one winner. */
export interface WriteConditions {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: '*';
}

/**
 * The bucket life the shell read before writing to a key (BucketLife in @cairn/protocol): every
 * object-key command carries it, so the decider never folds a previous life into this one.
 */
export interface InBucketLife {
  readonly incarnation: number;
  /**
   * The region taking a change of its own: its events then carry provenance (region, version
   * vector, an HLC after every version the key holds), which replication orders them by. Absent
   * only in tests of the single-region rules.
   */
  readonly region?: string;
}

/** A version's content: what a put writes and what a copy's source carries over. */
export interface VersionContent {
  readonly sizeBytes: number;
  readonly etag: string;
  readonly checksums: Checksums;
  readonly contentType: string;
  readonly userMetadata: UserMetadata;
  readonly contentHeaders?: ContentHeaders;
  readonly chunks: readonly ChunkRef[];
  /** How the chunks are encrypted (a copy: the source's, or its data key wrapped for the copy). */
  readonly encryption?: ObjectEncryption;
}

/** The ACL given with a write (the gateway built its owner and grants) and the bucket's rules it must meet. */
export interface WriteAcl {
  readonly acl?: AccessControlList;
  /** Required with `acl`. */
  readonly aclRules?: ObjectAclRules;
}

/** Object Lock given with a write (x-amz-object-lock-* or the bucket's default retention). */
export interface WriteLock {
  readonly retention?: ObjectRetention;
  readonly legalHold?: boolean;
}

/**
 * Version ids, time and HLC come from the shell. `versioning` is the bucket's status as the shell
 * read it: it decides whether the write makes a new version or the `null` one.
 */
export interface PutObjectVersion extends ObjectKeyRef, InBucketLife, WriteConditions, VersionContent, WriteLock, WriteAcl {
  readonly type: 'PutObjectVersion';
  readonly versionId: string;
  readonly versioning: VersioningStatus;
  readonly storageClass: StorageClass;
  readonly tags?: readonly Tag[];
  readonly hlc: string;
  readonly lastModified: string;
  readonly uploadId?: string;
  /** A completed upload's part sizes, in part order; only with uploadId. */
  readonly partSizes?: readonly number[];
}

/** S3 DeleteObject without a version id: a delete marker, or removal of the null version when unversioned. */
export interface DeleteObject extends ObjectKeyRef, InBucketLife {
  readonly type: 'DeleteObject';
  /** Lifecycle's expiry: the current version must still be this one (PreconditionFailed otherwise). */
  readonly expect?: ExpectedVersion;
  /** S3 If-Match: the current version's ETag, or '*' (see checkDeleteCondition). */
  readonly ifMatch?: string;
  /** The id the marker gets when versioning is enabled. */
  readonly versionId: string;
  readonly versioning: VersioningStatus;
  readonly hlc: string;
  readonly lastModified: string;
}

/** S3 DeleteObject with a version id: removes that version or delete marker permanently. */
export interface DeleteObjectVersion extends ObjectKeyRef, InBucketLife {
  readonly type: 'DeleteObjectVersion';
  /** S3 If-Match, evaluated against the current version as S3 evaluates it (see checkDeleteCondition). */
  readonly ifMatch?: string;
  /** The shell's clock: a version retained until after it is refused (Object Lock); absent: every retention counts as running. */
  readonly now?: string;
  /** x-amz-bypass-governance-retention from a caller allowed s3:BypassGovernanceRetention. */
  readonly bypassGovernance?: boolean;
  /** Lifecycle's removal: the version must still be as read (PreconditionFailed otherwise). */
  readonly expect?: ExpectedVersion;
  readonly versionId: string;
}

export interface PutObjectTags extends ObjectKeyRef, InBucketLife {
  readonly type: 'PutObjectTags';
  /** The current version when absent. */
  readonly versionId?: string;
  readonly tags: readonly Tag[];
}

export interface DeleteObjectTags extends ObjectKeyRef, InBucketLife {
  readonly type: 'DeleteObjectTags';
  readonly versionId?: string;
}

/** PutObjectAcl: a version's ACL replaced (its owner stays), held to the bucket's rules. */
export interface PutObjectAcl extends ObjectKeyRef, InBucketLife {
  readonly type: 'PutObjectAcl';
  /** The current version when absent. */
  readonly versionId?: string;
  readonly acl: AccessControlList;
  readonly aclRules: ObjectAclRules;
}

/** The source version as the shell read it (HEAD on the source key), including its chunks. */
export interface CopySource extends VersionContent {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  /** The source's part sizes when it is a multipart version; the copy keeps its etag, so its parts. */
  readonly partSizes?: readonly number[];
  readonly storageClass: StorageClass;
  readonly tags: readonly Tag[];
}

/** Copy onto this key: a new version that references the source's chunks, no bytes moved. */
export interface CopyObject extends ObjectKeyRef, InBucketLife, WriteConditions, WriteLock, WriteAcl {
  /** The source's data key wrapped for the copy; absent: the source's encryption as it is. */
  readonly encryption?: ObjectEncryption;
  readonly type: 'CopyObject';
  readonly versionId: string;
  readonly versioning: VersioningStatus;
  readonly source: CopySource;
  readonly metadataDirective: 'COPY' | 'REPLACE';
  /** Used when metadataDirective is REPLACE. */
  readonly contentType?: string;
  readonly userMetadata?: UserMetadata;
  readonly contentHeaders?: ContentHeaders;
  readonly storageClass?: StorageClass;
  /** The source's bytes re-stored for the copy's class (its layout differs from the source's); absent: the source's chunks. */
  readonly chunks?: readonly ChunkRef[];
  readonly taggingDirective: 'COPY' | 'REPLACE';
  readonly tags?: readonly Tag[];
  readonly hlc: string;
  readonly lastModified: string;
}

/**
 * Another region's change of the key (an event as that region appended it), applied here: in
 * order and once per source region (the key's version vector), conflicts resolved.
 */
export interface ApplyReplicatedChange extends ObjectKeyRef {
  readonly type: 'ApplyReplicatedChange';
  /** This region's life of the bucket (the source's incarnation means nothing here). */
  readonly incarnation: number;
  readonly sourceRegion: string;
  readonly event: ObjectKeyEvent;
  /** The HLC of the change's envelope: what a change without one of its own (a removal) is ordered by. */
  readonly changeHlc: string;
  /** When this region resolved it (ConflictResolved.resolvedAt). */
  readonly resolvedAt: string;
}

/**
 * A version's chunk list swapped for its bytes re-stored in another class (lifecycle transitions):
 * decided only while the version holds the bytes with `etag` in `fromStorageClass`.
 */
export interface ChangeStorageClass extends ObjectKeyRef, InBucketLife {
  readonly type: 'ChangeStorageClass';
  readonly versionId: string;
  readonly etag: string;
  readonly fromStorageClass: string;
  readonly storageClass: string;
  readonly chunks: readonly ChunkRef[];
  readonly changedAt: string;
}

/**
 * PutObjectRetention / PutObjectLegalHold. `objectLockEnabled` is the bucket's, as the shell read
 * it; `now` the shell's clock (COMPLIANCE is never shortened before it ends).
 */
export interface SetObjectLock extends ObjectKeyRef, InBucketLife {
  readonly type: 'SetObjectLock';
  /** The current version when absent. */
  readonly versionId?: string;
  readonly retention?: ObjectRetention | null;
  readonly legalHold?: boolean;
  readonly bypassGovernance?: boolean;
  readonly objectLockEnabled: boolean;
  readonly now: string;
}

/** A version's data key wrapped again (master key rotation), only while it is still wrapped by `fromKeyId`. */
export interface RewrapDataKey extends ObjectKeyRef, InBucketLife {
  readonly type: 'RewrapDataKey';
  readonly versionId: string;
  readonly fromKeyId: string;
  readonly encryption: ObjectEncryption;
}

export type ObjectKeyCommand = ChangeStorageClass | ApplyReplicatedChange | PutObjectVersion | DeleteObject | DeleteObjectVersion | PutObjectTags | DeleteObjectTags | PutObjectAcl | CopyObject | SetObjectLock | RewrapDataKey;
