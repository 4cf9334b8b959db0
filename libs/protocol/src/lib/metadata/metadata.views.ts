import type { CorsConfiguration } from '../bucket-cors/bucket-cors.config';
import type { BucketEncryption, ObjectEncryption, ObjectLockConfiguration, ObjectRetention } from './data-protection';
import type { LifecycleConfiguration } from '../bucket-lifecycle/bucket-lifecycle.config';
import type { BucketSettings } from './bucket.events';
import type { AccessControlList, PublicAccessBlock } from '../acl/acl.types';
import type { AccessKeySecret } from './access-key.events';
import type { Checksums, ChunkRef, ContentHeaders, StorageClass, Tag } from './common';
import type { StorageNodeDescription } from './membership.events';

/**
 * What the metadata read model answers: the shapes of its query replies. The metadata service's
 * query adapter returns exactly these, so a caller reads the same type the adapter produces.
 */

export interface BucketView extends BucketSettings {
  readonly name: string;
  readonly tags: readonly Tag[];
  /** True between BeginBucketDeletion and the delete or its cancellation. */
  readonly deleting: boolean;
  /** The bucket policy's JSON text as put; absent when the bucket has none (and in ListBuckets). */
  readonly policy?: string;
  /** The bucket's CORS configuration; absent when it has none (and in ListBuckets). */
  readonly cors?: CorsConfiguration;
  /** The bucket's default encryption; absent when it has none. */
  readonly encryption?: BucketEncryption;
  /** The bucket's Object Lock configuration; absent when Object Lock is off. */
  readonly objectLock?: ObjectLockConfiguration;
  /** The bucket's ACL; absent when none was put (private: the owner has FULL_CONTROL), and in ListBuckets. */
  readonly acl?: AccessControlList;
  /** Absent when the bucket has no PublicAccessBlock configuration (and in ListBuckets). */
  readonly publicAccessBlock?: PublicAccessBlock;
  /** The bucket's lifecycle configuration; absent when it has none (and in ListBuckets). */
  readonly lifecycle?: LifecycleConfiguration;
}

export interface ObjectSummary {
  readonly key: string;
  readonly versionId: string;
  readonly sizeBytes: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly storageClass: StorageClass;
}

export interface VersionSummary {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
  readonly sizeBytes: number;
  /** Null for delete markers. */
  readonly etag: string | null;
  readonly lastModified: string;
  readonly storageClass: StorageClass | null;
}

export interface ObjectVersionView extends VersionSummary {
  readonly bucket: string;
  readonly checksums: Readonly<Record<string, string>>;
  readonly contentType: string | null;
  readonly userMetadata: Readonly<Record<string, string>>;
  /** `{}` when none were stored. */
  readonly contentHeaders: ContentHeaders;
  readonly tags: readonly Tag[];
  readonly hlc: string;
  readonly uploadId: string | null;
  /** Each part's byte size in part order for a multipart version (completed or copied); null otherwise or when not recorded. */
  readonly partSizes: readonly number[] | null;
  /** In object order; offsets are byte offsets within the object. */
  readonly chunks: readonly ChunkRef[];
  /** How the chunks are encrypted; absent when they are not. */
  readonly encryption?: ObjectEncryption;
  /** Object Lock: the version's retention and legal hold; absent when none. */
  readonly retention?: ObjectRetention;
  readonly legalHold?: boolean;
  /** The version's ACL; absent: private, owned by the bucket's owner (always so for delete markers). */
  readonly acl?: AccessControlList;
}

export interface ListObjectsOptions {
  readonly prefix?: string;
  readonly delimiter?: string;
  /** 1..1000 (MetadataLimits.listMaxKeys); default 1000. */
  readonly maxKeys?: number;
}

export interface ListObjectsResult {
  readonly contents: readonly ObjectSummary[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
}

export interface ListObjectsV1Result extends ListObjectsResult {
  /** Set when truncated and a delimiter was given (S3 omits it otherwise; clients use the last key). */
  readonly nextMarker?: string;
}

export interface ListObjectsV2Result extends ListObjectsResult {
  readonly keyCount: number;
  readonly nextContinuationToken?: string;
}

export interface ListVersionsResult {
  readonly versions: readonly VersionSummary[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker?: string;
  readonly nextVersionIdMarker?: string;
}

export interface UploadSummary {
  readonly key: string;
  readonly uploadId: string;
  readonly owner: string;
  readonly initiatedAt: string;
  readonly storageClass: StorageClass;
}

export interface ListUploadsResult {
  readonly uploads: readonly UploadSummary[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker?: string;
  readonly nextUploadIdMarker?: string;
}

export interface PartSummary {
  readonly partNumber: number;
  readonly etag: string;
  readonly sizeBytes: number;
  readonly lastModified: string;
  /** The checksums the part was uploaded with (S3's ChecksumCRC32… in ListParts). */
  readonly checksums: Checksums;
}

export interface ListPartsResult {
  readonly parts: readonly PartSummary[];
  readonly isTruncated: boolean;
  readonly nextPartNumberMarker?: number;
  /** The class the upload was initiated with: its parts are stored in its layout. */
  readonly storageClass?: StorageClass;
}

export interface StorageNodeView extends StorageNodeDescription {
  readonly draining: boolean;
  readonly joinedAt: string;
  readonly epoch: number;
}

/** The owner of the bootstrapped root access key; no other key may be created with it. */
export const ROOT_ACCESS_KEY_OWNER = 'root';

export interface AccessKeyView {
  readonly accessKeyId: string;
  /**
   * SigV4 recomputes signatures with it, so the read model holds it — sealed under the region
   * master key (the gateway opens it in memory). Absent in listings.
   */
  readonly secret?: AccessKeySecret;
  /** The name of the user the key acts for. */
  readonly owner: string;
  /** That user's canonical id and display name (the name itself for a user never created as such). */
  readonly canonicalId: string;
  readonly displayName: string;
  /** owner === ROOT_ACCESS_KEY_OWNER: the key bootstrapped from CAIRN_ROOT_ACCESS_KEY. */
  readonly isRoot: boolean;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** A user (an account): the owner of buckets and objects that access keys act for. */
export interface UserView {
  readonly user: string;
  readonly canonicalId: string;
  readonly displayName: string;
  readonly email: string | null;
  /** Null for a user known only as the owner of access keys made before users were recorded. */
  readonly createdAt: string | null;
}
