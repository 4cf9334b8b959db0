import type { Tag } from '../metadata/common';

/**
 * metadata's `lifecycle.versions` query (MetadataRpc.listLifecycleVersions): a page of a bucket's
 * keys with every version of each, newest first, and what lifecycle rules need to judge them (tags,
 * sizes, classes, last-modified, the HLC a removal is then conditioned on). Keys come in key-id
 * order (the SHA-256 of the key), whole: a key's versions never straddle two pages.
 */
export interface ListLifecycleVersionsRequest {
  readonly bucket: string;
  /** Keys strictly after this key id (the previous page's nextAfterKeyId); absent: from the start. */
  readonly afterKeyId?: string;
  /** 1..LIFECYCLE_VERSIONS_KEYS_MAX keys, default LIFECYCLE_VERSIONS_KEYS_DEFAULT. */
  readonly limit?: number;
  /** Wait until the projection has applied this META sequence. */
  readonly minSequence?: number;
}

export const LIFECYCLE_VERSIONS_KEYS_DEFAULT = 200;
export const LIFECYCLE_VERSIONS_KEYS_MAX = 1000;
/** A key's versions in one answer are capped (its oldest beyond this wait for the next pass). */
export const LIFECYCLE_VERSIONS_PER_KEY_MAX = 10_000;

export interface LifecycleVersion {
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
  readonly sizeBytes: number;
  readonly lastModified: string;
  /** Null for delete markers. */
  readonly storageClass: string | null;
  readonly tags: readonly Tag[];
  readonly hlc: string;
}

export interface LifecycleKeyVersions {
  readonly keyId: string;
  readonly key: string;
  /** Newest first; the first is current when isLatest. */
  readonly versions: readonly LifecycleVersion[];
}

export interface ListLifecycleVersionsReply {
  readonly keys: readonly LifecycleKeyVersions[];
  /** Pass as afterKeyId for the next page; null on the last. */
  readonly nextAfterKeyId: string | null;
  /** The META checkpoint the page was read at. */
  readonly asOfSequence: number;
}

/**
 * What a lifecycle removal (DeleteObjectRequest.expect) requires of the version it acts on: its
 * HLC as read, whether it is (or is not) the key's current version, and whether it must be the
 * key's only version (an expired delete marker). PreconditionFailed otherwise.
 */
export interface ExpectedVersion {
  readonly hlc: string;
  readonly current?: boolean;
  readonly onlyVersion?: boolean;
}
