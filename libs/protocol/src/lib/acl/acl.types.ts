/**
 * S3 access control lists: who holds which permission on a bucket or an object. Stored as events
 * (BucketAclSet, ObjectAclSet) with every grantee resolved to a canonical user id or a group: an
 * email address names a Cairn user only when the ACL is put, as S3 resolves it.
 */

export const ACL_PERMISSIONS = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'] as const;
export type AclPermission = (typeof ACL_PERMISSIONS)[number];

export const ALL_USERS_GROUP = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS_GROUP = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY_GROUP = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
export const ACL_GROUPS = [ALL_USERS_GROUP, AUTHENTICATED_USERS_GROUP, LOG_DELIVERY_GROUP] as const;
export type AclGroup = (typeof ACL_GROUPS)[number];

export type AclGrantee = { readonly type: 'CanonicalUser'; readonly id: string } | { readonly type: 'Group'; readonly uri: AclGroup };

export interface AclGrant {
  readonly grantee: AclGrantee;
  readonly permission: AclPermission;
}

/** An ACL as stored: its owner's canonical id and its grants (S3 allows at most 100). */
export interface AccessControlList {
  readonly ownerId: string;
  readonly grants: readonly AclGrant[];
}

export const ACL_MAX_GRANTS = 100;

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export function isCannedAcl(value: string): value is CannedAcl {
  return (CANNED_ACLS as readonly string[]).includes(value);
}

/** S3 Object Ownership: who owns uploaded objects, and whether ACLs take effect at all. */
export const OBJECT_OWNERSHIPS = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] as const;
export type ObjectOwnership = (typeof OBJECT_OWNERSHIPS)[number];
/** What a new bucket gets when CreateBucket names none (S3's default since April 2023). */
export const DEFAULT_OBJECT_OWNERSHIP: ObjectOwnership = 'BucketOwnerEnforced';

export function isObjectOwnership(value: string): value is ObjectOwnership {
  return (OBJECT_OWNERSHIPS as readonly string[]).includes(value);
}

/** A bucket's PublicAccessBlock configuration; a flag left out of a put is false. */
export interface PublicAccessBlock {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly restrictPublicBuckets: boolean;
}

export const NO_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false };
