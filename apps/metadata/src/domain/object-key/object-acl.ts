import {
  ACL_MAX_GRANTS,
  bucketOwnersPrivateAcl,
  canonicalIdOf,
  isBucketOwnersPrivate,
  isCanonicalId,
  MetadataErrorCodes,
  normalizeAcl,
  objectAclRefusal,
  type AccessControlList,
  type ObjectAclRules,
  type ObjectKeyEvent,
} from '@cairn/protocol';
import { MetadataError } from '../shared/metadata.errors';
import type { PutObjectAcl } from './object-key.commands';
import type { ObjectKeyState } from './object-key.decider';
import type { BucketLife, ObjectKeyRef } from './object-key.events';

/* Object ACLs on one key: the bucket's rules every write of one meets, and PutObjectAcl. */

export type { ObjectAclRules };

/** The rules of a live bucket (its owner's name and access settings). */
export function objectAclRulesOf(bucket: { readonly owner: string; readonly access: { readonly objectOwnership: string | null; readonly publicAccessBlock: { readonly blockPublicAcls: boolean } | null } }): ObjectAclRules {
  return {
    aclsEnabled: bucket.access.objectOwnership !== 'BucketOwnerEnforced',
    blockPublicAcls: bucket.access.publicAccessBlock?.blockPublicAcls === true,
    bucketOwnerId: canonicalIdOf(bucket.owner),
  };
}

/**
 * Checks an object ACL against its bucket's rules (objectAclRefusal: S3's refusals) and gives what
 * is stored: undefined when it is the default (private, owned by the bucket owner) — so versions
 * of buckets whose owner owns every object carry nothing, and under BucketOwnerEnforced nothing is
 * ever stored — else the ACL, grants in one canonical order.
 */
export function storedObjectAcl(acl: AccessControlList, rules: ObjectAclRules): AccessControlList | undefined {
  if (!isCanonicalId(acl.ownerId)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'an ACL owner is a canonical user id');
  if (acl.grants.length > ACL_MAX_GRANTS) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `an ACL holds at most ${ACL_MAX_GRANTS} grants`);
  const refusal = objectAclRefusal(acl, rules);
  if (refusal === 'AccessControlListNotSupported') throw new MetadataError(MetadataErrorCodes.AccessControlListNotSupported, 'The bucket does not allow ACLs');
  if (refusal === 'AccessDenied') throw new MetadataError(MetadataErrorCodes.AccessDenied, 'PublicAccessBlock (BlockPublicAcls) refuses a public ACL');
  if (!rules.aclsEnabled) return undefined;
  const normalized = normalizeAcl(acl);
  return isBucketOwnersPrivate(normalized, rules.bucketOwnerId) ? undefined : normalized;
}

/** The `acl` field a put, copy or initiation records: none without an ACL, else what storedObjectAcl keeps. */
export function aclOfWrite(command: { readonly acl?: AccessControlList; readonly aclRules?: ObjectAclRules }): { readonly acl?: AccessControlList } {
  if (command.acl === undefined) return {};
  if (command.aclRules === undefined) throw new MetadataError(MetadataErrorCodes.InvalidArgument, "an object ACL comes with its bucket's rules");
  const stored = storedObjectAcl(command.acl, command.aclRules);
  return stored === undefined ? {} : { acl: stored };
}

/**
 * PutObjectAcl: the version's ACL replaced. Its owner stays the version's (S3 never changes an
 * object's owner through its ACL); the command's ownerId is the shell's reading of it and must
 * match. Nothing is appended when the stored ACL would not change.
 */
export function decidePutObjectAcl(command: PutObjectAcl, state: ObjectKeyState, ref: ObjectKeyRef & BucketLife): ObjectKeyEvent[] {
  const version = command.versionId === undefined ? state.versions[0] : state.versions.find((v) => v.versionId === command.versionId);
  if (!version || (command.versionId === undefined && version.isDeleteMarker)) {
    if (command.versionId === undefined) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${command.key} does not exist`, { key: command.key });
    throw new MetadataError(MetadataErrorCodes.NoSuchVersion, `${command.key} has no version ${command.versionId}`, { key: command.key, versionId: command.versionId });
  }
  if (version.isDeleteMarker) {
    throw new MetadataError(MetadataErrorCodes.MethodNotAllowed, `version ${version.versionId} of ${command.key} is a delete marker`, { key: command.key, versionId: version.versionId });
  }
  const owner = version.acl?.ownerId ?? command.aclRules.bucketOwnerId;
  const stored = storedObjectAcl({ ownerId: owner, grants: command.acl.grants }, command.aclRules);
  // ACLs disabled: the bucket owner's full control was taken, and is what the object has already.
  if (!command.aclRules.aclsEnabled) return [];
  const current = version.acl ?? bucketOwnersPrivateAcl(command.aclRules.bucketOwnerId);
  const next = stored ?? bucketOwnersPrivateAcl(command.aclRules.bucketOwnerId);
  if (sameAcl(current, next)) return [];
  return [{ type: 'ObjectAclSet', data: { ...ref, versionId: version.versionId, acl: next } }];
}

function sameAcl(a: AccessControlList, b: AccessControlList): boolean {
  return JSON.stringify(normalizeAcl(a)) === JSON.stringify(normalizeAcl(b));
}
