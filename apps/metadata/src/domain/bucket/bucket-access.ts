import {
  ACL_MAX_GRANTS,
  canonicalIdOf,
  grantsOnlyOwnerFullControl,
  isBucketPolicyPublic,
  isCanonicalId,
  isObjectOwnership,
  isPublicAcl,
  MetadataErrorCodes,
  normalizeAcl,
  parseBucketPolicy,
  type AccessControlList,
  type BucketAccessEvent,
  type ObjectOwnership,
  type PublicAccessBlock,
} from '@cairn/protocol';
import { MetadataError } from '../shared/metadata.errors';

/* A bucket's access settings (ACL, Object Ownership, PublicAccessBlock): their commands, and how the bucket decider decides and evolves them. */

export interface BucketAccess {
  /** Null: none was put (private: the owner holds FULL_CONTROL). */
  readonly acl: AccessControlList | null;
  /** Null: no ownership controls (ObjectWriter's behaviour: ACLs on). */
  readonly objectOwnership: ObjectOwnership | null;
  readonly publicAccessBlock: PublicAccessBlock | null;
}

export const NO_BUCKET_ACCESS_SETTINGS: BucketAccess = { acl: null, objectOwnership: null, publicAccessBlock: null };

export interface PutBucketAcl {
  readonly type: 'PutBucketAcl';
  readonly bucket: string;
  readonly acl: AccessControlList;
}
export interface PutBucketOwnershipControls {
  readonly type: 'PutBucketOwnershipControls';
  readonly bucket: string;
  readonly objectOwnership: ObjectOwnership;
}
export interface DeleteBucketOwnershipControls {
  readonly type: 'DeleteBucketOwnershipControls';
  readonly bucket: string;
}
export interface PutBucketPublicAccessBlock {
  readonly type: 'PutBucketPublicAccessBlock';
  readonly bucket: string;
  readonly publicAccessBlock: PublicAccessBlock;
}
export interface DeleteBucketPublicAccessBlock {
  readonly type: 'DeleteBucketPublicAccessBlock';
  readonly bucket: string;
}

export type BucketAccessCommand = PutBucketAcl | PutBucketOwnershipControls | DeleteBucketOwnershipControls | PutBucketPublicAccessBlock | DeleteBucketPublicAccessBlock;

const ACCESS_COMMANDS: ReadonlySet<string> = new Set(['PutBucketAcl', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls', 'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock']);
const ACCESS_EVENTS: ReadonlySet<string> = new Set(['BucketAclSet', 'BucketOwnershipControlsSet', 'BucketOwnershipControlsDeleted', 'BucketPublicAccessBlockSet', 'BucketPublicAccessBlockDeleted']);

export function isBucketAccessCommand<C extends { readonly type: string }>(command: C | BucketAccessCommand): command is BucketAccessCommand {
  return ACCESS_COMMANDS.has(command.type);
}

export function isBucketAccessEvent<E extends { readonly type: string }>(event: E | BucketAccessEvent): event is BucketAccessEvent {
  return ACCESS_EVENTS.has(event.type);
}

/** What decideBucketAccess reads of the live bucket. */
export interface BucketAccessFacts {
  readonly owner: string;
  readonly access: BucketAccess;
}

/**
 * The rules S3 holds a bucket's access settings to:
 * - an ACL on a bucket whose ownership is BucketOwnerEnforced may grant only the owner full
 *   control (AccessControlListNotSupported otherwise);
 * - with BlockPublicAcls, an ACL granting AllUsers or AuthenticatedUsers is refused (AccessDenied);
 * - BucketOwnerEnforced cannot be set while the ACL grants others (InvalidBucketAclWithObjectOwnership).
 */
export function decideBucketAccess(command: BucketAccessCommand, live: BucketAccessFacts): BucketAccessEvent[] {
  const bucket = command.bucket;
  const access = live.access;
  switch (command.type) {
    case 'PutBucketAcl': {
      const acl = { ...validateAcl(command.acl, bucket), ownerId: canonicalIdOf(live.owner) };
      refuseAcl(acl, live, access.objectOwnership, bucket);
      if (access.acl !== null && JSON.stringify(access.acl) === JSON.stringify(acl)) return [];
      return [{ type: 'BucketAclSet', data: { bucket, acl } }];
    }
    case 'PutBucketOwnershipControls': {
      if (!isObjectOwnership(command.objectOwnership)) throw new MetadataError(MetadataErrorCodes.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema', { bucket });
      if (command.objectOwnership === 'BucketOwnerEnforced' && access.acl !== null && !grantsOnlyOwnerFullControl(access.acl, canonicalIdOf(live.owner))) {
        throw new MetadataError(MetadataErrorCodes.InvalidBucketAclWithObjectOwnership, 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting', { bucket });
      }
      if (access.objectOwnership === command.objectOwnership) return [];
      return [{ type: 'BucketOwnershipControlsSet', data: { bucket, objectOwnership: command.objectOwnership } }];
    }
    case 'DeleteBucketOwnershipControls':
      if (access.objectOwnership === null) return [];
      return [{ type: 'BucketOwnershipControlsDeleted', data: { bucket } }];
    case 'PutBucketPublicAccessBlock': {
      const p = command.publicAccessBlock;
      const publicAccessBlock: PublicAccessBlock = {
        blockPublicAcls: p.blockPublicAcls === true,
        ignorePublicAcls: p.ignorePublicAcls === true,
        blockPublicPolicy: p.blockPublicPolicy === true,
        restrictPublicBuckets: p.restrictPublicBuckets === true,
      };
      if (access.publicAccessBlock !== null && JSON.stringify(access.publicAccessBlock) === JSON.stringify(publicAccessBlock)) return [];
      return [{ type: 'BucketPublicAccessBlockSet', data: { bucket, publicAccessBlock } }];
    }
    case 'DeleteBucketPublicAccessBlock':
      if (access.publicAccessBlock === null) return [];
      return [{ type: 'BucketPublicAccessBlockDeleted', data: { bucket } }];
    default: {
      const unknown: never = command;
      throw new Error(`unknown bucket access command ${JSON.stringify(unknown)}`);
    }
  }
}

export function evolveBucketAccess(access: BucketAccess, event: BucketAccessEvent): BucketAccess {
  switch (event.type) {
    case 'BucketAclSet':
      return { ...access, acl: event.data.acl };
    case 'BucketOwnershipControlsSet':
      return { ...access, objectOwnership: event.data.objectOwnership };
    case 'BucketOwnershipControlsDeleted':
      return { ...access, objectOwnership: null };
    case 'BucketPublicAccessBlockSet':
      return { ...access, publicAccessBlock: event.data.publicAccessBlock };
    case 'BucketPublicAccessBlockDeleted':
      return { ...access, publicAccessBlock: null };
    default: {
      const unknown: never = event;
      throw new Error(`unknown bucket access event ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * What CreateBucket adds for access: the Object Ownership the request named (checked; it goes into
 * BucketCreated), and a BucketAclSet when the request gave an ACL that is not plain private
 * (InvalidBucketAclWithObjectOwnership when it grants others under BucketOwnerEnforced).
 */
export function bucketAccessOnCreate(bucket: string, owner: string, request: { readonly objectOwnership?: ObjectOwnership; readonly acl?: AccessControlList }): BucketAccessEvent[] {
  const objectOwnership = request.objectOwnership;
  if (objectOwnership !== undefined && !isObjectOwnership(objectOwnership)) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `Invalid x-amz-object-ownership header: ${String(objectOwnership)}`, { bucket });
  }
  if (request.acl === undefined) return [];
  const ownerId = canonicalIdOf(owner);
  const acl = { ...validateAcl(request.acl, bucket), ownerId };
  if (grantsOnlyOwnerFullControl(acl, ownerId)) return [];
  if (objectOwnership === 'BucketOwnerEnforced') {
    throw new MetadataError(MetadataErrorCodes.InvalidBucketAclWithObjectOwnership, 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting', { bucket });
  }
  return [{ type: 'BucketAclSet', data: { bucket, acl } }];
}

/** PutBucketPolicy under BlockPublicPolicy: a public policy is refused, as S3 refuses it (AccessDenied). */
export function refusePublicPolicy(access: BucketAccess, policyText: string, bucket: string): void {
  if (access.publicAccessBlock?.blockPublicPolicy !== true) return;
  if (isBucketPolicyPublic(parseBucketPolicy(policyText, bucket))) {
    throw new MetadataError(MetadataErrorCodes.AccessDenied, 'Access Denied: the bucket\'s PublicAccessBlock blocks public policies', { bucket });
  }
}

function refuseAcl(acl: AccessControlList, live: BucketAccessFacts, ownership: ObjectOwnership | null, bucket: string): void {
  if (ownership === 'BucketOwnerEnforced' && !grantsOnlyOwnerFullControl(acl, canonicalIdOf(live.owner))) {
    throw new MetadataError(MetadataErrorCodes.AccessControlListNotSupported, 'The bucket does not allow ACLs', { bucket });
  }
  if (live.access.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(acl)) {
    throw new MetadataError(MetadataErrorCodes.AccessDenied, 'Access Denied: the bucket\'s PublicAccessBlock blocks public ACLs', { bucket });
  }
}

function validateAcl(acl: AccessControlList, bucket: string): AccessControlList {
  const malformed = () => new MetadataError(MetadataErrorCodes.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema', { bucket });
  if (acl === null || typeof acl !== 'object' || !Array.isArray(acl.grants) || (acl.ownerId !== undefined && !isCanonicalId(acl.ownerId))) throw malformed();
  if (acl.grants.length > ACL_MAX_GRANTS) throw malformed();
  return normalizeAcl(acl);
}
