import {
  ACL_GROUPS,
  ACL_MAX_GRANTS,
  ACL_PERMISSIONS,
  ALL_USERS_GROUP,
  AUTHENTICATED_USERS_GROUP,
  LOG_DELIVERY_GROUP,
  type AccessControlList,
  type AclGrant,
  type AclGroup,
  type AclPermission,
  type CannedAcl,
  type ObjectOwnership,
} from './acl.types';

/** Who holds an ACL's grants in a canned ACL: the resource's owner and, for objects, its bucket's owner. */
export interface CannedAclOwners {
  /** The canonical id of the bucket's or object's owner. */
  readonly ownerId: string;
  /** For an object: its bucket's owner (bucket-owner-read / -full-control); absent for a bucket. */
  readonly bucketOwnerId?: string;
}

const fullControl = (id: string): AclGrant => ({ grantee: { type: 'CanonicalUser', id }, permission: 'FULL_CONTROL' });
const group = (uri: AclGroup, permission: AclPermission): AclGrant => ({ grantee: { type: 'Group', uri }, permission });

/**
 * The grants a canned ACL stands for (S3's table). aws-exec-read names an AWS service Cairn does
 * not have, so it grants what private does; bucket-owner-* on a bucket are private too, as in S3.
 */
export function cannedAcl(canned: CannedAcl, owners: CannedAclOwners): AccessControlList {
  const owner = fullControl(owners.ownerId);
  const bucketOwner = owners.bucketOwnerId !== undefined && owners.bucketOwnerId !== owners.ownerId ? owners.bucketOwnerId : undefined;
  const grants: AclGrant[] = [owner];
  switch (canned) {
    case 'private':
    case 'aws-exec-read':
      break;
    case 'public-read':
      grants.push(group(ALL_USERS_GROUP, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS_GROUP, 'READ'), group(ALL_USERS_GROUP, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS_GROUP, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== undefined) grants.push({ grantee: { type: 'CanonicalUser', id: bucketOwner }, permission: 'READ' });
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== undefined) grants.push(fullControl(bucketOwner));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY_GROUP, 'WRITE'), group(LOG_DELIVERY_GROUP, 'READ_ACP'));
      break;
    default: {
      const unknown: never = canned;
      throw new Error(`unknown canned ACL ${String(unknown)}`);
    }
  }
  return { ownerId: owners.ownerId, grants };
}

/** The x-amz-grant-* headers and the permission each grants. */
export const GRANT_HEADERS: ReadonlyArray<readonly [string, AclPermission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/** A grantee as a request names it, before an email address is resolved to a user. */
export type RequestedGrantee = { readonly kind: 'id'; readonly value: string } | { readonly kind: 'emailAddress'; readonly value: string } | { readonly kind: 'uri'; readonly value: string };

export interface RequestedGrant {
  readonly grantee: RequestedGrantee;
  readonly permission: AclPermission;
}

/** Why a grant header or ACL body is refused: S3's code and message. */
export class AclProblem extends Error {
  constructor(
    readonly code: 'InvalidArgument' | 'MalformedACLError' | 'UnresolvableGrantByEmailAddress' | 'InvalidRequest',
    message: string,
  ) {
    super(message);
    this.name = 'AclProblem';
  }
}

const GRANTEE_PATTERN = /^\s*(id|emailAddress|uri)\s*=\s*(?:"([^"]*)"|([^,\s"]*))\s*$/i;

/**
 * One x-amz-grant-* header: comma-separated `id="…"`, `emailAddress="…"` or `uri="…"` grantees
 * (S3's syntax; quotes optional). A malformed one is InvalidArgument.
 */
export function parseGrantHeader(value: string, permission: AclPermission): RequestedGrant[] {
  const grants: RequestedGrant[] = [];
  for (const part of splitOutsideQuotes(value)) {
    const match = GRANTEE_PATTERN.exec(part);
    if (!match || (match[2] ?? match[3] ?? '') === '') throw new AclProblem('InvalidArgument', `Invalid grant header value: ${JSON.stringify(part.trim())}`);
    const kind = match[1].toLowerCase() === 'id' ? 'id' : match[1].toLowerCase() === 'uri' ? 'uri' : 'emailAddress';
    grants.push({ grantee: { kind, value: (match[2] ?? match[3]).trim() }, permission });
  }
  return grants;
}

function splitOutsideQuotes(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.filter((p) => p.trim() !== '');
}

const CANONICAL_ID_PATTERN = /^[0-9a-f]{64}$/;

/** Whether a text is a canonical user id as Cairn (and S3) writes them: 64 lowercase hex digits. */
export function isCanonicalId(value: string): boolean {
  return CANONICAL_ID_PATTERN.test(value);
}

/**
 * Requested grants into stored ones: canonical ids checked, groups named by their URIs, emails
 * resolved by `userIdByEmail` (UnresolvableGrantByEmailAddress when it knows no such user).
 */
export function resolveGrants(requested: readonly RequestedGrant[], userIdByEmail: (email: string) => string | undefined, knownUserId: (id: string) => boolean): AclGrant[] {
  if (requested.length > ACL_MAX_GRANTS) throw new AclProblem('MalformedACLError', `An ACL holds at most ${ACL_MAX_GRANTS} grants.`);
  return requested.map((grant): AclGrant => {
    if (!(ACL_PERMISSIONS as readonly string[]).includes(grant.permission)) throw new AclProblem('MalformedACLError', `Unknown permission ${grant.permission}.`);
    const { kind, value } = grant.grantee;
    if (kind === 'uri') {
      if (!(ACL_GROUPS as readonly string[]).includes(value)) throw new AclProblem('InvalidArgument', `Invalid group uri: ${value}`);
      return { grantee: { type: 'Group', uri: value as AclGroup }, permission: grant.permission };
    }
    if (kind === 'emailAddress') {
      const id = userIdByEmail(value.toLowerCase());
      if (id === undefined) throw new AclProblem('UnresolvableGrantByEmailAddress', 'The email address you provided does not match any account on record.');
      return { grantee: { type: 'CanonicalUser', id }, permission: grant.permission };
    }
    if (!isCanonicalId(value) || !knownUserId(value)) throw new AclProblem('InvalidArgument', 'Invalid id');
    return { grantee: { type: 'CanonicalUser', id: value }, permission: grant.permission };
  });
}

/** Grants in one canonical order without duplicates, so two puts of the same ACL store the same thing. */
export function normalizeAcl(acl: AccessControlList): AccessControlList {
  const seen = new Map<string, AclGrant>();
  for (const grant of acl.grants) {
    const who = grant.grantee.type === 'CanonicalUser' ? `u:${grant.grantee.id}` : `g:${grant.grantee.uri}`;
    seen.set(`${who}|${grant.permission}`, grant);
  }
  return { ownerId: acl.ownerId, grants: [...seen.values()] };
}

/** Whether a grant reaches beyond named users: to everyone, or to everyone signed in (S3's "public"). */
export function isPublicGrant(grant: AclGrant): boolean {
  return grant.grantee.type === 'Group' && (grant.grantee.uri === ALL_USERS_GROUP || grant.grantee.uri === AUTHENTICATED_USERS_GROUP);
}

export function isPublicAcl(acl: AccessControlList): boolean {
  return acl.grants.some(isPublicGrant);
}

/** Whether an ACL grants nothing but full control to `ownerId` (what ACLs-disabled buckets accept). */
export function grantsOnlyOwnerFullControl(acl: AccessControlList, ownerId: string): boolean {
  return acl.grants.every((grant) => grant.grantee.type === 'CanonicalUser' && grant.grantee.id === ownerId && grant.permission === 'FULL_CONTROL');
}

/** The caller an ACL is asked about: a canonical user id, or nobody (an anonymous request). */
export interface AclCaller {
  readonly canonicalId?: string;
}

/**
 * Whether the ACL gives the caller `permission`: a grant of it or of FULL_CONTROL to the caller's
 * id, to AllUsers, or (signed callers) to AuthenticatedUsers. The ACL's owner always holds READ_ACP
 * and WRITE_ACP, as in S3. `ignorePublic` (PublicAccessBlock's IgnorePublicAcls) drops group grants
 * to AllUsers and AuthenticatedUsers.
 */
export function aclAllows(acl: AccessControlList, caller: AclCaller, permission: AclPermission, ignorePublic = false): boolean {
  if ((permission === 'READ_ACP' || permission === 'WRITE_ACP') && caller.canonicalId !== undefined && caller.canonicalId === acl.ownerId) return true;
  return acl.grants.some((grant) => {
    if (grant.permission !== permission && grant.permission !== 'FULL_CONTROL') return false;
    if (ignorePublic && isPublicGrant(grant)) return false;
    const grantee = grant.grantee;
    if (grantee.type === 'CanonicalUser') return caller.canonicalId !== undefined && grantee.id === caller.canonicalId;
    if (grantee.uri === ALL_USERS_GROUP) return true;
    if (grantee.uri === AUTHENTICATED_USERS_GROUP) return caller.canonicalId !== undefined;
    return false;
  });
}

/** Which ACL (the bucket's or the object's) and which permission grant an IAM action, as S3 maps them. */
export interface AclRequirement {
  readonly on: 'bucket' | 'object';
  readonly permission: AclPermission;
}

const ACL_REQUIREMENTS: Readonly<Record<string, AclRequirement>> = {
  's3:listbucket': { on: 'bucket', permission: 'READ' },
  's3:listbucketversions': { on: 'bucket', permission: 'READ' },
  's3:listbucketmultipartuploads': { on: 'bucket', permission: 'READ' },
  's3:getbucketacl': { on: 'bucket', permission: 'READ_ACP' },
  's3:putbucketacl': { on: 'bucket', permission: 'WRITE_ACP' },
  // Writing and deleting objects is a permission on the bucket (WRITE), not on the object.
  's3:putobject': { on: 'bucket', permission: 'WRITE' },
  's3:deleteobject': { on: 'bucket', permission: 'WRITE' },
  's3:deleteobjectversion': { on: 'bucket', permission: 'WRITE' },
  's3:abortmultipartupload': { on: 'bucket', permission: 'WRITE' },
  's3:listmultipartuploadparts': { on: 'bucket', permission: 'WRITE' },
  's3:getobject': { on: 'object', permission: 'READ' },
  's3:getobjectversion': { on: 'object', permission: 'READ' },
  's3:getobjectattributes': { on: 'object', permission: 'READ' },
  's3:getobjectversionattributes': { on: 'object', permission: 'READ' },
  's3:getobjectacl': { on: 'object', permission: 'READ_ACP' },
  's3:getobjectversionacl': { on: 'object', permission: 'READ_ACP' },
  's3:putobjectacl': { on: 'object', permission: 'WRITE_ACP' },
  's3:putobjectversionacl': { on: 'object', permission: 'WRITE_ACP' },
};

/** Undefined for actions no ACL grants (policies, CORS, tagging, …: owner or policy only). */
export function aclRequirementOf(action: string): AclRequirement | undefined {
  return ACL_REQUIREMENTS[action.toLowerCase()];
}

/** What of its bucket an object's ACL is held to. */
export interface ObjectAclRules {
  /** False under BucketOwnerEnforced: an ACL may then grant only the bucket owner full control. */
  readonly aclsEnabled: boolean;
  /** PublicAccessBlock's BlockPublicAcls: an ACL granting AllUsers or AuthenticatedUsers is refused. */
  readonly blockPublicAcls: boolean;
  /** The bucket owner's canonical id. */
  readonly bucketOwnerId: string;
}

/**
 * S3's refusal of an object ACL in its bucket, or null when it is taken: with ACLs disabled
 * anything but the bucket owner's full control is AccessControlListNotSupported; with
 * BlockPublicAcls a public grant is AccessDenied.
 */
export function objectAclRefusal(acl: AccessControlList, rules: ObjectAclRules): 'AccessControlListNotSupported' | 'AccessDenied' | null {
  if (!rules.aclsEnabled) return grantsOnlyOwnerFullControl(acl, rules.bucketOwnerId) ? null : 'AccessControlListNotSupported';
  if (rules.blockPublicAcls && isPublicAcl(acl)) return 'AccessDenied';
  return null;
}

/** The ACL an object without a stored one has: private, owned by its bucket's owner. */
export function bucketOwnersPrivateAcl(bucketOwnerId: string): AccessControlList {
  return { ownerId: bucketOwnerId, grants: [fullControl(bucketOwnerId)] };
}

/** Whether an ACL is exactly what an absent object ACL stands for (bucketOwnersPrivateAcl). */
export function isBucketOwnersPrivate(acl: AccessControlList, bucketOwnerId: string): boolean {
  return acl.ownerId === bucketOwnerId && acl.grants.length === 1 && grantsOnlyOwnerFullControl(acl, bucketOwnerId);
}

/** How an object write names its ACL: a canned ACL, explicit grants, or nothing. */
export type RequestedObjectAcl = { readonly kind: 'none' } | { readonly kind: 'canned'; readonly canned: CannedAcl } | { readonly kind: 'grants'; readonly grants: readonly AclGrant[] };

/**
 * Who owns an object a write makes, by the bucket's Object Ownership (S3's rules): the bucket
 * owner under BucketOwnerEnforced, and under BucketOwnerPreferred when the write asks for
 * bucket-owner-full-control; the writer otherwise (ObjectWriter, or no ownership controls). A
 * write with no canonical id (anonymous, or Cairn's root key acting as operator) makes an object
 * of the bucket owner's.
 */
export function objectOwnerOfWrite(objectOwnership: ObjectOwnership | undefined, bucketOwnerId: string, writerId: string | undefined, requested: RequestedObjectAcl): string {
  if (writerId === undefined || objectOwnership === 'BucketOwnerEnforced') return bucketOwnerId;
  if (objectOwnership === 'BucketOwnerPreferred' && requested.kind === 'canned' && requested.canned === 'bucket-owner-full-control') return bucketOwnerId;
  return writerId;
}

/** The ACL an object write stores: the requested one with its owner, private (the owner's full control) when none was named. */
export function objectAclOfWrite(ownerId: string, bucketOwnerId: string, requested: RequestedObjectAcl): AccessControlList {
  switch (requested.kind) {
    case 'none':
      return cannedAcl('private', { ownerId, bucketOwnerId });
    case 'canned':
      return cannedAcl(requested.canned, { ownerId, bucketOwnerId });
    case 'grants':
      return { ownerId, grants: requested.grants };
    default: {
      const unknown: never = requested;
      throw new Error(`unknown requested ACL ${JSON.stringify(unknown)}`);
    }
  }
}
