import type { AccessControlList, ObjectOwnership, PublicAccessBlock } from '../acl/acl.types';
import type { CommandReply, ReadYourWrites } from './metadata.rpc';
import type { UserView } from './metadata.views';

/*
 * The metadata RPCs of users and of a bucket's access settings (ACL, ownership controls,
 * PublicAccessBlock); patterns in MetadataRpc.
 */

/** InvalidArgument for a bad name or email; UserAlreadyExists when the name or email is taken. */
export interface CreateUserRequest {
  readonly user: string;
  /** Defaults to the name. */
  readonly displayName?: string;
  readonly email?: string;
}
export interface CreateUserReply extends CommandReply {
  readonly user: UserView;
}

/** Exactly one of user, canonicalId, email. NoSuchUser when nobody matches. */
export interface GetUserRequest extends ReadYourWrites {
  readonly user?: string;
  readonly canonicalId?: string;
  readonly email?: string;
}
export type GetUserReply = UserView;

export type ListUsersRequest = ReadYourWrites;
export interface ListUsersReply {
  readonly users: readonly UserView[];
}

/** AccessControlListNotSupported / InvalidBucketAclWithObjectOwnership / AccessDenied (BlockPublicAcls) as S3. */
export interface PutBucketAclRequest {
  readonly bucket: string;
  readonly acl: AccessControlList;
}
/** InvalidBucketAclWithObjectOwnership when BucketOwnerEnforced meets an ACL that grants others. */
export interface PutBucketOwnershipControlsRequest {
  readonly bucket: string;
  readonly objectOwnership: ObjectOwnership;
}
export interface DeleteBucketOwnershipControlsRequest {
  readonly bucket: string;
}
export interface PutBucketPublicAccessBlockRequest {
  readonly bucket: string;
  readonly publicAccessBlock: PublicAccessBlock;
}
export interface DeleteBucketPublicAccessBlockRequest {
  readonly bucket: string;
}
