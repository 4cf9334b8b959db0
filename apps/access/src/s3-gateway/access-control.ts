import {
  ACL_PERMISSIONS,
  AclProblem,
  bucketOwnersPrivateAcl,
  cannedAcl,
  canonicalIdOf,
  GRANT_HEADERS,
  isBucketOwnersPrivate,
  isCannedAcl,
  objectAclOfWrite,
  objectAclRefusal,
  objectOwnerOfWrite,
  parseGrantHeader,
  resolveGrants,
  type AccessControlList,
  type AclPermission,
  type BucketView,
  type CannedAcl,
  type CannedAclOwners,
  type ObjectAclRules,
  type RequestedGrant,
  type RequestedObjectAcl,
} from '@cairn/protocol';
import type { UserDirectory } from '../adapters/user-directory';
import { S3Error, isBlank, parseAccessControlPolicy, renderAccessControlPolicy, type RenderedGrant } from '../s3';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

/*
 * ACLs at the edge: what a request asks for (x-amz-acl, x-amz-grant-*, an AccessControlPolicy
 * body), resolved to canonical ids through the user directory, and ACLs rendered back with
 * display names. What is allowed is decided in @cairn/protocol (decideAccess) and metadata's
 * bucket decider.
 */

/** The canonical id of a bucket's owner. */
export function bucketOwnerId(view: BucketView): string {
  return canonicalIdOf(view.owner);
}

/** Whether the bucket's ACLs take effect (every Object Ownership but BucketOwnerEnforced). */
export function aclsEnabled(view: BucketView): boolean {
  return view.objectOwnership !== 'BucketOwnerEnforced';
}

/**
 * The ACL a request's headers ask for: a canned ACL (x-amz-acl) or explicit grants
 * (x-amz-grant-*), never both (InvalidRequest); undefined when it names none.
 */
export async function aclFromHeaders(ex: S3Exchange, directory: UserDirectory, owners: CannedAclOwners): Promise<AccessControlList | undefined> {
  const canned = ex.header('x-amz-acl')?.trim();
  const requested: RequestedGrant[] = [];
  for (const [header, permission] of GRANT_HEADERS) {
    const value = ex.header(header);
    if (value !== undefined) requested.push(...s3Problem(() => parseGrantHeader(value, permission)));
  }
  if (canned !== undefined && requested.length > 0) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) {
    if (!isCannedAcl(canned)) throw new S3Error('InvalidArgument', `${canned} is not a valid canned ACL.`);
    return cannedAcl(canned, owners);
  }
  if (requested.length === 0) return undefined;
  return { ownerId: owners.ownerId, grants: await resolve(requested, directory) };
}

/** PutBucketAcl / PutObjectAcl: the ACL from the headers or from the AccessControlPolicy body (one of them). */
export async function aclFromRequest(ex: S3Exchange, directory: UserDirectory, owners: CannedAclOwners): Promise<AccessControlList> {
  const body = await readXmlBody(ex.req, ex.caller).catch((error: unknown) => {
    // S3 names every bad ACL document MalformedACLError, an oversized one included.
    throw error instanceof S3Error && error.code === 'MalformedXML' ? new S3Error('MalformedACLError') : error;
  });
  const fromHeaders = await aclFromHeaders(ex, directory, owners);
  if (isBlank(body)) {
    if (fromHeaders === undefined) throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header: x-amz-acl, an x-amz-grant-* header or an AccessControlPolicy body.');
    return fromHeaders;
  }
  if (fromHeaders !== undefined) throw new S3Error('UnexpectedContent', 'This request does not support content when ACL headers are given.');
  const policy = parseAccessControlPolicy(body);
  const requested = policy.grants.map((grant): RequestedGrant => {
    if (!(ACL_PERMISSIONS as readonly string[]).includes(grant.permission)) throw new S3Error('MalformedACLError');
    const permission = grant.permission as AclPermission;
    if (grant.granteeId !== undefined) return { grantee: { kind: 'id', value: grant.granteeId }, permission };
    if (grant.granteeEmail !== undefined) return { grantee: { kind: 'emailAddress', value: grant.granteeEmail }, permission };
    if (grant.granteeUri !== undefined) return { grantee: { kind: 'uri', value: grant.granteeUri }, permission };
    throw new S3Error('MalformedACLError');
  });
  return { ownerId: owners.ownerId, grants: await resolve(requested, directory) };
}

/** The bucket's rules an object ACL is held to (metadata's key decider holds them too). */
export function objectAclRulesOf(view: BucketView): ObjectAclRules {
  return { aclsEnabled: aclsEnabled(view), blockPublicAcls: view.publicAccessBlock?.blockPublicAcls === true, bucketOwnerId: bucketOwnerId(view) };
}

/** S3's refusal of an object ACL in the exchange's bucket, before any byte of a body is taken. */
export function refuseObjectAcl(view: BucketView, acl: AccessControlList): void {
  const refusal = objectAclRefusal(acl, objectAclRulesOf(view));
  if (refusal === 'AccessControlListNotSupported') throw new S3Error('AccessControlListNotSupported');
  if (refusal === 'AccessDenied') throw new S3Error('AccessDenied', 'PublicAccessBlock (BlockPublicAcls) refuses a public ACL.');
}

/**
 * The ACL a write of an object stores (PutObject, CopyObject, CreateMultipartUpload, POST uploads):
 * owned as the bucket's Object Ownership says (objectOwnerOfWrite), with the grants its x-amz-acl
 * or x-amz-grant-* headers (or a POST's `acl` field) ask for, private when none. Refused at once
 * as S3 refuses it (AccessControlListNotSupported, BlockPublicAcls); metadata's decider checks
 * again. Undefined when it is the default every object without one has: private, owned by the
 * bucket owner.
 */
export async function objectWriteAcl(ex: S3Exchange, directory: UserDirectory, cannedField?: string): Promise<AccessControlList | undefined> {
  const view = ex.bucketInfo;
  const requested = await requestedObjectAcl(ex, directory, cannedField);
  const bucketOwner = bucketOwnerId(view);
  const caller = ex.caller;
  const writerId = caller.via === 'anonymous' || caller.isRoot ? undefined : canonicalIdOf(caller.owner);
  const ownerId = objectOwnerOfWrite(view.objectOwnership, bucketOwner, writerId, requested);
  const acl = objectAclOfWrite(ownerId, bucketOwner, requested);
  refuseObjectAcl(view, acl);
  return isBucketOwnersPrivate(acl, bucketOwner) ? undefined : acl;
}

/** `{ acl }` for a metadata write request, `{}` for the default ACL. */
export async function objectWriteAclField(ex: S3Exchange, directory: UserDirectory, cannedField?: string): Promise<{ acl?: AccessControlList }> {
  const acl = await objectWriteAcl(ex, directory, cannedField);
  return acl === undefined ? {} : { acl };
}

/** An object's ACL as it reads: the stored one while ACLs are on, else (and when none is stored) the bucket owner's private. */
export function objectAclOf(view: BucketView, stored: AccessControlList | undefined): AccessControlList {
  return aclsEnabled(view) && stored !== undefined ? stored : bucketOwnersPrivateAcl(bucketOwnerId(view));
}

async function requestedObjectAcl(ex: S3Exchange, directory: UserDirectory, cannedField: string | undefined): Promise<RequestedObjectAcl> {
  if (cannedField !== undefined) {
    const canned = cannedField.trim();
    if (!isCannedAcl(canned)) throw new S3Error('InvalidArgument', `${canned} is not a valid canned ACL.`);
    return { kind: 'canned', canned };
  }
  const canned = ex.header('x-amz-acl')?.trim();
  if (canned !== undefined) {
    // aclFromHeaders refuses a canned ACL with grant headers, and an unknown one.
    await aclFromHeaders(ex, directory, { ownerId: '' });
    return { kind: 'canned', canned: canned as CannedAcl };
  }
  const fromGrants = await aclFromHeaders(ex, directory, { ownerId: '' });
  return fromGrants === undefined ? { kind: 'none' } : { kind: 'grants', grants: fromGrants.grants };
}

/** An ACL as S3 renders it, grantees' display names from the directory. */
export async function renderAcl(directory: UserDirectory, acl: AccessControlList): Promise<string> {
  const owner = { id: acl.ownerId, displayName: await directory.displayNameOf(acl.ownerId) };
  const grants: RenderedGrant[] = [];
  for (const grant of acl.grants) {
    grants.push(grant.grantee.type === 'CanonicalUser' ? { grant, displayName: await directory.displayNameOf(grant.grantee.id) } : { grant });
  }
  return renderAccessControlPolicy(owner, grants);
}

/** A bucket's ACL as stored, or what it stands for: private, and always private when ACLs are disabled. */
export function bucketAclOf(view: BucketView): AccessControlList {
  const ownerId = bucketOwnerId(view);
  if (!aclsEnabled(view) || view.acl === undefined) return cannedAcl('private', { ownerId });
  return view.acl;
}

async function resolve(requested: readonly RequestedGrant[], directory: UserDirectory) {
  const emails = new Map<string, string>();
  const ids = new Set<string>();
  for (const { grantee } of requested) {
    if (grantee.kind === 'emailAddress') {
      const user = await directory.byEmail(grantee.value);
      if (user) emails.set(grantee.value.toLowerCase(), user.canonicalId);
    } else if (grantee.kind === 'id' && /^[0-9a-f]{64}$/.test(grantee.value)) {
      if (await directory.byCanonicalId(grantee.value)) ids.add(grantee.value);
    }
  }
  return s3Problem(() => resolveGrants(requested, (email) => emails.get(email), (id) => ids.has(id)));
}

function s3Problem<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof AclProblem) throw new S3Error(error.code, error.message);
    throw error;
  }
}
