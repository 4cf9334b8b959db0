import { decideAccess, parseBucketPolicy, type AccessDecisionInput } from '../bucket-policy';
import { canonicalIdOf } from '../metadata/user.events';
import {
  AclProblem,
  aclAllows,
  bucketOwnersPrivateAcl,
  cannedAcl,
  grantsOnlyOwnerFullControl,
  isBucketOwnersPrivate,
  isPublicAcl,
  objectAclOfWrite,
  objectAclRefusal,
  objectOwnerOfWrite,
  parseGrantHeader,
  resolveGrants,
  type RequestedObjectAcl,
} from './acl';
import { ALL_USERS_GROUP, AUTHENTICATED_USERS_GROUP, type AccessControlList, type CannedAcl, type ObjectOwnership } from './acl.types';

const alice = canonicalIdOf('alice');
const bob = canonicalIdOf('bob');
const carol = canonicalIdOf('carol');

describe('canonical ids', () => {
  it('are 64 hex digits, one per user name', () => {
    expect(alice).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalIdOf('alice')).toBe(alice);
    expect(bob).not.toBe(alice);
  });
});

describe('canned ACLs', () => {
  it.each<[CannedAcl, string[]]>([
    ['private', ['alice:FULL_CONTROL']],
    ['aws-exec-read', ['alice:FULL_CONTROL']],
    ['public-read', ['alice:FULL_CONTROL', 'AllUsers:READ']],
    ['public-read-write', ['alice:FULL_CONTROL', 'AllUsers:READ', 'AllUsers:WRITE']],
    ['authenticated-read', ['alice:FULL_CONTROL', 'AuthenticatedUsers:READ']],
    ['bucket-owner-read', ['alice:FULL_CONTROL', 'bob:READ']],
    ['bucket-owner-full-control', ['alice:FULL_CONTROL', 'bob:FULL_CONTROL']],
    ['log-delivery-write', ['alice:FULL_CONTROL', 'LogDelivery:WRITE', 'LogDelivery:READ_ACP']],
  ])('%s on an object alice wrote into bob\'s bucket', (canned, expected) => {
    const names = new Map([[alice, 'alice'], [bob, 'bob']]);
    const acl = cannedAcl(canned, { ownerId: alice, bucketOwnerId: bob });
    expect(acl.ownerId).toBe(alice);
    expect(acl.grants.map((g) => `${g.grantee.type === 'CanonicalUser' ? names.get(g.grantee.id) : g.grantee.uri.split('/').pop()}:${g.permission}`)).toEqual(expected);
  });

  it('bucket-owner-* add nothing when the writer owns the bucket', () => {
    expect(cannedAcl('bucket-owner-full-control', { ownerId: alice, bucketOwnerId: alice }).grants).toHaveLength(1);
    expect(cannedAcl('bucket-owner-read', { ownerId: alice }).grants).toHaveLength(1);
  });
});

describe('grant headers', () => {
  it('parses ids, emails and uris, quoted or not, comma-separated', () => {
    expect(parseGrantHeader(`id="${bob}", emailAddress="Carol@Example.com",uri=${ALL_USERS_GROUP}`, 'READ')).toEqual([
      { grantee: { kind: 'id', value: bob }, permission: 'READ' },
      { grantee: { kind: 'emailAddress', value: 'Carol@Example.com' }, permission: 'READ' },
      { grantee: { kind: 'uri', value: ALL_USERS_GROUP }, permission: 'READ' },
    ]);
  });

  it.each(['bob', 'id=', 'name="x"', 'id="a" id="b"'])('refuses %j with InvalidArgument', (value) => {
    expect(() => parseGrantHeader(value, 'READ')).toThrow(AclProblem);
  });

  it('resolves emails to users and checks ids and groups', () => {
    const byEmail = (email: string) => (email === 'carol@example.com' ? carol : undefined);
    const known = (id: string) => id === bob || id === carol;
    expect(resolveGrants(parseGrantHeader('emailAddress="Carol@Example.com"', 'WRITE'), byEmail, known)).toEqual([{ grantee: { type: 'CanonicalUser', id: carol }, permission: 'WRITE' }]);
    expect(() => resolveGrants(parseGrantHeader('emailAddress="nobody@example.com"', 'READ'), byEmail, known)).toThrow(expect.objectContaining({ code: 'UnresolvableGrantByEmailAddress' }));
    expect(() => resolveGrants(parseGrantHeader(`id="${'0'.repeat(64)}"`, 'READ'), byEmail, known)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => resolveGrants(parseGrantHeader('uri="http://acs.amazonaws.com/groups/global/Nobody"', 'READ'), byEmail, known)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });
});

describe('aclAllows', () => {
  const acl: AccessControlList = {
    ownerId: alice,
    grants: [
      { grantee: { type: 'CanonicalUser', id: alice }, permission: 'FULL_CONTROL' },
      { grantee: { type: 'CanonicalUser', id: bob }, permission: 'WRITE' },
      { grantee: { type: 'Group', uri: AUTHENTICATED_USERS_GROUP }, permission: 'READ_ACP' },
      { grantee: { type: 'Group', uri: ALL_USERS_GROUP }, permission: 'READ' },
    ],
  };
  it.each([
    ['the owner, anything', alice, 'WRITE_ACP', false, true],
    ['bob, his WRITE', bob, 'WRITE', false, true],
    ['bob, not WRITE_ACP', bob, 'WRITE_ACP', false, false],
    ['anyone signed in, READ_ACP', carol, 'READ_ACP', false, true],
    ['anonymous, not READ_ACP', undefined, 'READ_ACP', false, false],
    ['anonymous, READ by AllUsers', undefined, 'READ', false, true],
    ['anonymous, READ when public ACLs are ignored', undefined, 'READ', true, false],
    ['carol, READ_ACP when public ACLs are ignored', carol, 'READ_ACP', true, false],
    ['bob, WRITE when public ACLs are ignored (a named grant)', bob, 'WRITE', true, true],
  ] as const)('%s', (_, who, permission, ignorePublic, expected) => {
    expect(aclAllows(acl, who === undefined ? {} : { canonicalId: who }, permission, ignorePublic)).toBe(expected);
  });

  it('the owner keeps READ_ACP and WRITE_ACP without a grant', () => {
    const bare: AccessControlList = { ownerId: alice, grants: [] };
    expect(aclAllows(bare, { canonicalId: alice }, 'WRITE_ACP')).toBe(true);
    expect(aclAllows(bare, { canonicalId: alice }, 'READ')).toBe(false);
  });

  it('tells public ACLs and owner-only ones', () => {
    expect(isPublicAcl(acl)).toBe(true);
    expect(isPublicAcl(cannedAcl('private', { ownerId: alice }))).toBe(false);
    expect(grantsOnlyOwnerFullControl(cannedAcl('bucket-owner-full-control', { ownerId: alice, bucketOwnerId: alice }), alice)).toBe(true);
    expect(grantsOnlyOwnerFullControl(cannedAcl('bucket-owner-full-control', { ownerId: bob, bucketOwnerId: alice }), alice)).toBe(false);
  });
});

describe('decideAccess: ownership, policy and ACLs together', () => {
  const bucketArn = 'arn:aws:s3:::photos';
  const objectArn = 'arn:aws:s3:::photos/cat.jpg';
  const publicRead = cannedAcl('public-read', { ownerId: alice });
  const bobWrites: AccessControlList = { ownerId: alice, grants: [...cannedAcl('private', { ownerId: alice }).grants, { grantee: { type: 'CanonicalUser', id: bob }, permission: 'WRITE' }] };
  const publicPolicy = parseBucketPolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucketArn}/*` }] }), 'photos');
  const denyBob = parseBucketPolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: 'bob' }, Action: 's3:*', Resource: [bucketArn, `${bucketArn}/*`] }] }), 'photos');

  type Who = 'alice' | 'bob' | 'carol' | 'anonymous' | 'root';
  const decide = (who: Who, action: string, resource: string, over: Partial<AccessDecisionInput> = {}) =>
    decideAccess({
      callerIsRoot: who === 'root',
      callerOwnsBucket: who === 'alice',
      ...(who === 'anonymous' || who === 'root' ? {} : { callerCanonicalId: canonicalIdOf(who) }),
      objectOwnership: 'ObjectWriter',
      request: { principal: who === 'anonymous' ? { kind: 'anonymous' } : { kind: 'account', account: who, canonicalId: canonicalIdOf(who) }, action, resource, context: {} },
      ...over,
    });

  it.each<[string, Who, string, string, Partial<AccessDecisionInput>, string]>([
    ['root always', 'root', 's3:GetObject', objectArn, { policy: denyBob }, 'root'],
    ['the owner, no ACL or policy', 'alice', 's3:ListBucket', bucketArn, {}, 'owner'],
    ['a stranger, nothing grants', 'carol', 's3:ListBucket', bucketArn, { bucketAcl: cannedAcl('private', { ownerId: alice }) }, 'implicit-deny'],
    ['anonymous listing by public-read bucket ACL', 'anonymous', 's3:ListBucket', bucketArn, { bucketAcl: publicRead }, 'acl-allow'],
    ['anonymous reading by public-read object ACL', 'anonymous', 's3:GetObject', objectArn, { objectAcl: publicRead }, 'acl-allow'],
    ['anonymous not writing by a public-read bucket ACL', 'anonymous', 's3:PutObject', objectArn, { bucketAcl: publicRead }, 'implicit-deny'],
    ['bob writing by a WRITE grant on the bucket', 'bob', 's3:PutObject', objectArn, { bucketAcl: bobWrites }, 'acl-allow'],
    ['bob deleting by a WRITE grant on the bucket', 'bob', 's3:DeleteObject', objectArn, { bucketAcl: bobWrites }, 'acl-allow'],
    ['bob denied by the policy whatever the ACL says', 'bob', 's3:PutObject', objectArn, { bucketAcl: bobWrites, policy: denyBob }, 'explicit-deny'],
    ['ACLs are off under BucketOwnerEnforced', 'anonymous', 's3:GetObject', objectArn, { objectAcl: publicRead, objectOwnership: 'BucketOwnerEnforced' }, 'implicit-deny'],
    ['a policy still allows under BucketOwnerEnforced', 'anonymous', 's3:GetObject', objectArn, { policy: publicPolicy, objectOwnership: 'BucketOwnerEnforced' }, 'policy-allow'],
    ['IgnorePublicAcls drops a public ACL', 'anonymous', 's3:GetObject', objectArn, { objectAcl: publicRead, publicAccessBlock: { blockPublicAcls: false, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false } }, 'implicit-deny'],
    ['RestrictPublicBuckets drops a public policy', 'anonymous', 's3:GetObject', objectArn, { policy: publicPolicy, publicAccessBlock: { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: true } }, 'implicit-deny'],
    ['RestrictPublicBuckets leaves the owner', 'alice', 's3:GetObject', objectArn, { policy: publicPolicy, publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true } }, 'owner'],
    ['the bucket owner may not read another writer\'s private object', 'alice', 's3:GetObject', objectArn, { objectAcl: cannedAcl('private', { ownerId: bob }) }, 'implicit-deny'],
    ['the bucket owner reads it with bucket-owner-read', 'alice', 's3:GetObject', objectArn, { objectAcl: cannedAcl('bucket-owner-read', { ownerId: bob, bucketOwnerId: alice }) }, 'acl-allow'],
    ['the bucket owner deletes it anyway (a bucket permission)', 'alice', 's3:DeleteObject', objectArn, { objectAcl: cannedAcl('private', { ownerId: bob }) }, 'owner'],
    ['the object\'s writer reads it', 'bob', 's3:GetObject', objectArn, { objectAcl: cannedAcl('private', { ownerId: bob }) }, 'acl-allow'],
    ['the object\'s writer changes its ACL (owner keeps WRITE_ACP)', 'bob', 's3:PutObjectAcl', objectArn, { objectAcl: { ownerId: bob, grants: [] } }, 'acl-allow'],
    ['under BucketOwnerEnforced the bucket owner owns every object', 'alice', 's3:GetObject', objectArn, { objectAcl: cannedAcl('private', { ownerId: bob }), objectOwnership: 'BucketOwnerEnforced' }, 'owner'],
    ['tagging is not an ACL permission', 'anonymous', 's3:GetObjectTagging', objectArn, { objectAcl: cannedAcl('public-read-write', { ownerId: alice }) }, 'implicit-deny'],
    ['AuthenticatedUsers reaches any signed caller, not anonymous', 'carol', 's3:ListBucket', bucketArn, { bucketAcl: cannedAcl('authenticated-read', { ownerId: alice }) }, 'acl-allow'],
    ['AuthenticatedUsers does not reach anonymous', 'anonymous', 's3:ListBucket', bucketArn, { bucketAcl: cannedAcl('authenticated-read', { ownerId: alice }) }, 'implicit-deny'],
  ])('%s', (_, who, action, resource, over, reason) => {
    const decision = decide(who, action, resource, over);
    expect(decision.reason).toBe(reason);
    expect(decision.allowed).toBe(['root', 'owner', 'acl-allow', 'policy-allow', 'owner-policy-management'].includes(reason));
  });
});

describe('object writes: who owns the object, and the ACL it stores', () => {
  const none: RequestedObjectAcl = { kind: 'none' };
  const fullControlToBucketOwner: RequestedObjectAcl = { kind: 'canned', canned: 'bucket-owner-full-control' };
  const publicRead: RequestedObjectAcl = { kind: 'canned', canned: 'public-read' };
  type Writer = 'alice' | 'bob' | 'nobody';
  // alice owns the bucket; bob writes into it; nobody is an anonymous writer (or the root key).
  it.each<[ObjectOwnership | undefined, Writer, RequestedObjectAcl, 'alice' | 'bob']>([
    ['BucketOwnerEnforced', 'bob', none, 'alice'],
    ['BucketOwnerEnforced', 'bob', publicRead, 'alice'],
    ['BucketOwnerPreferred', 'bob', none, 'bob'],
    ['BucketOwnerPreferred', 'bob', fullControlToBucketOwner, 'alice'],
    ['BucketOwnerPreferred', 'bob', publicRead, 'bob'],
    ['ObjectWriter', 'bob', fullControlToBucketOwner, 'bob'],
    ['ObjectWriter', 'alice', none, 'alice'],
    [undefined, 'bob', none, 'bob'],
    ['ObjectWriter', 'nobody', publicRead, 'alice'],
  ])('%s, %s writing with %j: owned by %s', (ownership, writer, requested, owner) => {
    const writerId = writer === 'nobody' ? undefined : canonicalIdOf(writer);
    expect(objectOwnerOfWrite(ownership, alice, writerId, requested)).toBe(canonicalIdOf(owner));
  });

  it('stores private (the owner\'s full control) when no ACL is named, the canned or explicit one otherwise', () => {
    expect(objectAclOfWrite(bob, alice, none)).toEqual({ ownerId: bob, grants: [{ grantee: { type: 'CanonicalUser', id: bob }, permission: 'FULL_CONTROL' }] });
    expect(objectAclOfWrite(bob, alice, fullControlToBucketOwner).grants).toHaveLength(2);
    const grants = [{ grantee: { type: 'CanonicalUser', id: carol }, permission: 'READ' }] as const;
    // Explicit grants are the whole ACL, as in S3: the owner keeps only READ_ACP and WRITE_ACP.
    expect(objectAclOfWrite(bob, alice, { kind: 'grants', grants })).toEqual({ ownerId: bob, grants });
  });

  it('tells the default ACL (the bucket owner\'s private) from any other', () => {
    expect(isBucketOwnersPrivate(bucketOwnersPrivateAcl(alice), alice)).toBe(true);
    expect(isBucketOwnersPrivate(cannedAcl('private', { ownerId: bob }), alice)).toBe(false);
    expect(isBucketOwnersPrivate(cannedAcl('public-read', { ownerId: alice }), alice)).toBe(false);
  });

  const rules = (aclsEnabled: boolean, blockPublicAcls: boolean) => ({ aclsEnabled, blockPublicAcls, bucketOwnerId: alice });
  it.each<[string, AccessControlList, boolean, boolean, string | null]>([
    ['private by the bucket owner, ACLs disabled', bucketOwnersPrivateAcl(alice), false, false, null],
    ['bucket-owner-full-control by the bucket owner, ACLs disabled', cannedAcl('bucket-owner-full-control', { ownerId: alice, bucketOwnerId: alice }), false, false, null],
    ['public-read, ACLs disabled', cannedAcl('public-read', { ownerId: alice }), false, false, 'AccessControlListNotSupported'],
    ['a grant to another user, ACLs disabled', { ownerId: alice, grants: [{ grantee: { type: 'CanonicalUser', id: bob }, permission: 'READ' }] }, false, false, 'AccessControlListNotSupported'],
    ['public-read, ACLs on', cannedAcl('public-read', { ownerId: bob }), true, false, null],
    ['public-read under BlockPublicAcls', cannedAcl('public-read', { ownerId: bob }), true, true, 'AccessDenied'],
    ['authenticated-read under BlockPublicAcls', cannedAcl('authenticated-read', { ownerId: bob }), true, true, 'AccessDenied'],
    ['a named grant under BlockPublicAcls', cannedAcl('bucket-owner-read', { ownerId: bob, bucketOwnerId: alice }), true, true, null],
  ])('%s', (_, acl, aclsEnabled, blockPublicAcls, refusal) => {
    expect(objectAclRefusal(acl, rules(aclsEnabled, blockPublicAcls))).toBe(refusal);
  });
});

describe('decideAccess on stored object ACLs (GetObject, HeadObject, GetObjectAcl, PutObjectAcl)', () => {
  const objectArn = 'arn:aws:s3:::shared/report.pdf';
  type Who = 'alice' | 'bob' | 'carol' | 'anonymous';
  const decide = (who: Who, action: string, objectAcl: AccessControlList | undefined, over: Partial<AccessDecisionInput> = {}) =>
    decideAccess({
      callerIsRoot: false,
      callerOwnsBucket: who === 'alice',
      ...(who === 'anonymous' ? {} : { callerCanonicalId: canonicalIdOf(who) }),
      objectOwnership: 'ObjectWriter',
      bucketAcl: cannedAcl('private', { ownerId: alice }),
      ...(objectAcl === undefined ? {} : { objectAcl }),
      request: { principal: who === 'anonymous' ? { kind: 'anonymous' } : { kind: 'account', account: who, canonicalId: canonicalIdOf(who) }, action, resource: objectArn, context: {} },
      ...over,
    }).allowed;
  const bobPrivate = cannedAcl('private', { ownerId: bob });
  const bobPublic = cannedAcl('public-read', { ownerId: bob });
  const carolReads: AccessControlList = { ownerId: bob, grants: [...bobPrivate.grants, { grantee: { type: 'CanonicalUser', id: carol }, permission: 'READ' }] };
  const carolReadsAcp: AccessControlList = { ownerId: bob, grants: [...bobPrivate.grants, { grantee: { type: 'CanonicalUser', id: carol }, permission: 'READ_ACP' }] };
  const carolFull: AccessControlList = { ownerId: bob, grants: [...bobPrivate.grants, { grantee: { type: 'CanonicalUser', id: carol }, permission: 'FULL_CONTROL' }] };
  const ignorePublic = { publicAccessBlock: { blockPublicAcls: false, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false } };

  it.each<[string, Who, string, AccessControlList | undefined, Partial<AccessDecisionInput>, boolean]>([
    ['anonymous GET of a public-read object', 'anonymous', 's3:GetObject', bobPublic, {}, true],
    ['anonymous GET of a public-read version', 'anonymous', 's3:GetObjectVersion', bobPublic, {}, true],
    ['anonymous GET of a private object', 'anonymous', 's3:GetObject', bobPrivate, {}, false],
    ['anonymous GET of a public-read object under IgnorePublicAcls', 'anonymous', 's3:GetObject', bobPublic, ignorePublic, false],
    ['anonymous GET of a public-read object under BucketOwnerEnforced', 'anonymous', 's3:GetObject', bobPublic, { objectOwnership: 'BucketOwnerEnforced' }, false],
    ['anonymous GetObjectAcl of a public-read object (READ is not READ_ACP)', 'anonymous', 's3:GetObjectAcl', bobPublic, {}, false],
    ['carol without a grant', 'carol', 's3:GetObject', bobPrivate, {}, false],
    ['carol with a READ grant', 'carol', 's3:GetObject', carolReads, {}, true],
    ['carol with a READ grant, not its ACL', 'carol', 's3:GetObjectAcl', carolReads, {}, false],
    ['carol with READ_ACP reads the ACL', 'carol', 's3:GetObjectAcl', carolReadsAcp, {}, true],
    ['carol with READ_ACP does not write it', 'carol', 's3:PutObjectAcl', carolReadsAcp, {}, false],
    ['carol with FULL_CONTROL writes the ACL', 'carol', 's3:PutObjectAcl', carolFull, {}, true],
    ['bob, the object\'s owner, reads it', 'bob', 's3:GetObject', bobPrivate, {}, true],
    ['bob writes its ACL (owner)', 'bob', 's3:PutObjectVersionAcl', { ownerId: bob, grants: [] }, {}, true],
    ['alice, the bucket owner, without a grant on bob\'s object', 'alice', 's3:GetObject', bobPrivate, {}, false],
    ['alice with bucket-owner-full-control on it', 'alice', 's3:GetObject', cannedAcl('bucket-owner-full-control', { ownerId: bob, bucketOwnerId: alice }), {}, true],
    ['alice on an object stored without an ACL (hers)', 'alice', 's3:GetObject', undefined, {}, true],
    ['carol on an object stored without an ACL', 'carol', 's3:GetObject', undefined, {}, false],
  ])('%s', (_, who, action, objectAcl, over, allowed) => {
    expect(decide(who, action, objectAcl, over)).toBe(allowed);
  });
});
