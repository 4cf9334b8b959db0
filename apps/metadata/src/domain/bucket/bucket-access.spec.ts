import { deciderSpecification } from '@cairn/eventing';
import { ALL_USERS_GROUP, cannedAcl, canonicalIdOf, type BucketCreated } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { bucketDecider } from './bucket.decider';
import type { CreateBucket } from './bucket.commands';

const spec = deciderSpecification(bucketDecider);
const createdAt = '2026-01-01T00:00:00.000Z';
const alice = canonicalIdOf('alice');
const bob = canonicalIdOf('bob');
const create: CreateBucket = { type: 'CreateBucket', bucket: 'photos', owner: 'alice', region: 'eu-one', createdAt };
const createdWith = (objectOwnership?: 'BucketOwnerEnforced' | 'ObjectWriter' | 'BucketOwnerPreferred'): BucketCreated => ({
  type: 'BucketCreated',
  data: {
    bucket: 'photos',
    owner: 'alice',
    region: 'eu-one',
    createdAt,
    versioning: 'Unversioned',
    replication: { mode: 'local' },
    defaultStorageClass: 'STANDARD',
    ...(objectOwnership ? { objectOwnership } : {}),
  },
});
const enforced = createdWith('BucketOwnerEnforced');
const writer = createdWith('ObjectWriter');
const publicRead = cannedAcl('public-read', { ownerId: alice });
const privateAcl = cannedAcl('private', { ownerId: alice });
const bobReads = { ownerId: alice, grants: [...privateAcl.grants, { grantee: { type: 'CanonicalUser' as const, id: bob }, permission: 'READ' as const }] };
const pab = (over: object) => ({ blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false, ...over });
const publicPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/*' }] });

describe('bucket decider: ACL, ownership controls, PublicAccessBlock', () => {
  describe('CreateBucket', () => {
    it('records the Object Ownership the request names', () => spec.given([]).when({ ...create, objectOwnership: 'BucketOwnerEnforced' }).then([enforced]));

    it('stores an ACL wider than private where ACLs are on', () =>
      spec.given([]).when({ ...create, objectOwnership: 'ObjectWriter', acl: publicRead }).then([writer, { type: 'BucketAclSet', data: { bucket: 'photos', acl: publicRead } }]));

    it('stores nothing for a private ACL', () => spec.given([]).when({ ...create, objectOwnership: 'BucketOwnerEnforced', acl: privateAcl }).then([enforced]));

    it('refuses an ACL that grants others with BucketOwnerEnforced', () =>
      spec.given([]).when({ ...create, objectOwnership: 'BucketOwnerEnforced', acl: publicRead }).thenThrows(MetadataError, hasCode('InvalidBucketAclWithObjectOwnership')));
  });

  describe('PutBucketAcl', () => {
    it('sets the ACL with the bucket owner as its owner, once', () => {
      const set = { type: 'BucketAclSet', data: { bucket: 'photos', acl: bobReads } } as const;
      spec.given([writer]).when({ type: 'PutBucketAcl', bucket: 'photos', acl: { ...bobReads, ownerId: bob } }).then([set]);
      spec.given([writer, set]).when({ type: 'PutBucketAcl', bucket: 'photos', acl: bobReads }).then([]);
    });

    it('refuses grants to others when ACLs are disabled (AccessControlListNotSupported), takes owner-only', () => {
      spec.given([enforced]).when({ type: 'PutBucketAcl', bucket: 'photos', acl: bobReads }).thenThrows(MetadataError, hasCode('AccessControlListNotSupported'));
      spec.given([enforced]).when({ type: 'PutBucketAcl', bucket: 'photos', acl: privateAcl }).then([{ type: 'BucketAclSet', data: { bucket: 'photos', acl: privateAcl } }]);
    });

    it('refuses a public ACL under BlockPublicAcls, a named grant passes', () => {
      const blocked = { type: 'BucketPublicAccessBlockSet', data: { bucket: 'photos', publicAccessBlock: pab({ blockPublicAcls: true }) } } as const;
      spec.given([writer, blocked]).when({ type: 'PutBucketAcl', bucket: 'photos', acl: publicRead }).thenThrows(MetadataError, hasCode('AccessDenied'));
      spec.given([writer, blocked]).when({ type: 'PutBucketAcl', bucket: 'photos', acl: bobReads }).then([{ type: 'BucketAclSet', data: { bucket: 'photos', acl: bobReads } }]);
    });

    it('refuses an ACL naming an unknown group', () =>
      spec
        .given([writer])
        .when({ type: 'PutBucketAcl', bucket: 'photos', acl: { ownerId: alice, grants: 'all' as never } })
        .thenThrows(MetadataError, hasCode('MalformedXML')));
  });

  describe('ownership controls', () => {
    it('changes, deletes and keeps them', () => {
      spec.given([enforced]).when({ type: 'PutBucketOwnershipControls', bucket: 'photos', objectOwnership: 'ObjectWriter' }).then([{ type: 'BucketOwnershipControlsSet', data: { bucket: 'photos', objectOwnership: 'ObjectWriter' } }]);
      spec.given([enforced]).when({ type: 'PutBucketOwnershipControls', bucket: 'photos', objectOwnership: 'BucketOwnerEnforced' }).then([]);
      spec.given([enforced]).when({ type: 'DeleteBucketOwnershipControls', bucket: 'photos' }).then([{ type: 'BucketOwnershipControlsDeleted', data: { bucket: 'photos' } }]);
      spec.given([createdWith()]).when({ type: 'DeleteBucketOwnershipControls', bucket: 'photos' }).then([]);
    });

    it('refuses BucketOwnerEnforced while the ACL grants others', () =>
      spec
        .given([writer, { type: 'BucketAclSet', data: { bucket: 'photos', acl: publicRead } }])
        .when({ type: 'PutBucketOwnershipControls', bucket: 'photos', objectOwnership: 'BucketOwnerEnforced' })
        .thenThrows(MetadataError, hasCode('InvalidBucketAclWithObjectOwnership')));

    it('refuses an unknown ownership', () =>
      spec.given([enforced]).when({ type: 'PutBucketOwnershipControls', bucket: 'photos', objectOwnership: 'Anyone' as never }).thenThrows(MetadataError, hasCode('MalformedXML')));
  });

  describe('PublicAccessBlock', () => {
    it('sets flags (missing ones false), deletes, keeps', () => {
      const set = { type: 'BucketPublicAccessBlockSet', data: { bucket: 'photos', publicAccessBlock: pab({ ignorePublicAcls: true }) } } as const;
      spec.given([enforced]).when({ type: 'PutBucketPublicAccessBlock', bucket: 'photos', publicAccessBlock: { ignorePublicAcls: true } as never }).then([set]);
      spec.given([enforced, set]).when({ type: 'PutBucketPublicAccessBlock', bucket: 'photos', publicAccessBlock: pab({ ignorePublicAcls: true }) }).then([]);
      spec.given([enforced, set]).when({ type: 'DeletePublicAccessBlock' as never, bucket: 'photos' } as never).thenThrows(Error);
      spec.given([enforced, set]).when({ type: 'DeleteBucketPublicAccessBlock', bucket: 'photos' }).then([{ type: 'BucketPublicAccessBlockDeleted', data: { bucket: 'photos' } }]);
    });

    it('BlockPublicPolicy refuses a public policy, not a private one', () => {
      const blocked = { type: 'BucketPublicAccessBlockSet', data: { bucket: 'photos', publicAccessBlock: pab({ blockPublicPolicy: true }) } } as const;
      spec.given([enforced, blocked]).when({ type: 'PutBucketPolicy', bucket: 'photos', policy: publicPolicy }).thenThrows(MetadataError, hasCode('AccessDenied'));
      const named = publicPolicy.replace('"Principal":"*"', '"Principal":{"AWS":"bob"}');
      spec.given([enforced, blocked]).when({ type: 'PutBucketPolicy', bucket: 'photos', policy: named }).then([{ type: 'BucketPolicySet', data: { bucket: 'photos', policy: named } }]);
    });
  });

  it('an ACL reference to AllUsers is a group grant', () => expect(publicRead.grants[1].grantee).toEqual({ type: 'Group', uri: ALL_USERS_GROUP }));
});
