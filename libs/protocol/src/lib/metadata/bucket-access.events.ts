import type { AccessControlList, ObjectOwnership, PublicAccessBlock } from '../acl/acl.types';

/*
 * A bucket's access settings besides its policy: its ACL, its Object Ownership and its
 * PublicAccessBlock. Each put replaces the setting whole.
 */

/** The bucket's ACL (grantees resolved to canonical ids and groups); a bucket without one is private. */
export interface BucketAclSet {
  readonly type: 'BucketAclSet';
  readonly data: { readonly bucket: string; readonly acl: AccessControlList };
}

export interface BucketOwnershipControlsSet {
  readonly type: 'BucketOwnershipControlsSet';
  readonly data: { readonly bucket: string; readonly objectOwnership: ObjectOwnership };
}

/** Without ownership controls a bucket behaves as ObjectWriter (ACLs on, writers own their objects). */
export interface BucketOwnershipControlsDeleted {
  readonly type: 'BucketOwnershipControlsDeleted';
  readonly data: { readonly bucket: string };
}

export interface BucketPublicAccessBlockSet {
  readonly type: 'BucketPublicAccessBlockSet';
  readonly data: { readonly bucket: string; readonly publicAccessBlock: PublicAccessBlock };
}

export interface BucketPublicAccessBlockDeleted {
  readonly type: 'BucketPublicAccessBlockDeleted';
  readonly data: { readonly bucket: string };
}

export type BucketAccessEvent = BucketAclSet | BucketOwnershipControlsSet | BucketOwnershipControlsDeleted | BucketPublicAccessBlockSet | BucketPublicAccessBlockDeleted;

export const BucketAccessEventSchemaVersions = {
  BucketAclSet: 1,
  BucketOwnershipControlsSet: 1,
  BucketOwnershipControlsDeleted: 1,
  BucketPublicAccessBlockSet: 1,
  BucketPublicAccessBlockDeleted: 1,
} as const satisfies Record<BucketAccessEvent['type'], number>;
