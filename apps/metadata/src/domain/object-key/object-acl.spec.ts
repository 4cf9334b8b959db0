import { createHash } from 'node:crypto';
import { deciderSpecification } from '@cairn/eventing';
import { keyIdOf } from '@cairn/hashing';
import { cannedAcl, canonicalIdOf, type AccessControlList, type MetadataErrorCode, type ObjectAclRules, type ObjectKeyEvent, type ObjectVersionPut } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { objectKeyDecider } from './object-key.decider';
import { keyAsRead } from '@cairn/key-reads';
import type { PutObjectAcl, PutObjectVersion } from './object-key.commands';

const spec = deciderSpecification(objectKeyDecider);
const ref = { bucket: 'shared', key: 'report.pdf', keyId: keyIdOf('report.pdf'), incarnation: 1 };
const hlc = '0000000001-0000-eu-one';
const at = '2026-06-01T00:00:00.000Z';
const body = 'quarterly figures';
const alice = canonicalIdOf('alice');
const bob = canonicalIdOf('bob');
const carol = canonicalIdOf('carol');
const etag = createHash('md5').update(body).digest('hex');
const chunks = [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length }];

const aclsOn: ObjectAclRules = { aclsEnabled: true, blockPublicAcls: false, bucketOwnerId: alice };
const aclsOff: ObjectAclRules = { ...aclsOn, aclsEnabled: false };
const blockPublic: ObjectAclRules = { ...aclsOn, blockPublicAcls: true };

const put = (extra: Partial<PutObjectVersion> = {}): PutObjectVersion => ({
  type: 'PutObjectVersion',
  ...ref,
  versionId: 'v1',
  versioning: 'Enabled',
  sizeBytes: body.length,
  etag,
  checksums: {},
  contentType: 'application/pdf',
  userMetadata: {},
  chunks,
  storageClass: 'STANDARD',
  hlc,
  lastModified: at,
  ...extra,
});

const putEvent = (extra: Partial<ObjectVersionPut['data']> = {}): ObjectVersionPut => ({
  type: 'ObjectVersionPut',
  data: {
    ...ref,
    versionId: 'v1',
    sizeBytes: body.length,
    etag,
    checksums: {},
    contentType: 'application/pdf',
    userMetadata: {},
    contentHeaders: {},
    chunks,
    storageClass: 'STANDARD',
    tags: [],
    hlc,
    lastModified: at,
    ...extra,
  },
});

const putAcl = (acl: AccessControlList, aclRules: ObjectAclRules = aclsOn, versionId?: string): PutObjectAcl => ({
  type: 'PutObjectAcl',
  ...ref,
  acl,
  aclRules,
  ...(versionId === undefined ? {} : { versionId }),
});
const aclSet = (acl: AccessControlList, versionId = 'v1'): ObjectKeyEvent => ({ type: 'ObjectAclSet', data: { ...ref, versionId, acl } });
const bobPrivate = cannedAcl('private', { ownerId: bob });
const bobPublic = cannedAcl('public-read', { ownerId: bob });
const carolReads: AccessControlList = { ownerId: bob, grants: [{ grantee: { type: 'CanonicalUser', id: carol }, permission: 'READ' }] };

describe('object key decider: object ACLs', () => {
  describe('on a put', () => {
    it.each<[string, AccessControlList | undefined, ObjectAclRules, AccessControlList | undefined]>([
      ['no ACL: nothing stored (the bucket owner\'s private)', undefined, aclsOn, undefined],
      ['the bucket owner\'s private: nothing stored', cannedAcl('private', { ownerId: alice }), aclsOn, undefined],
      ['another writer\'s private: stored, owned by the writer', bobPrivate, aclsOn, bobPrivate],
      ['public-read: stored', bobPublic, aclsOn, bobPublic],
      ['bucket-owner-full-control under BucketOwnerEnforced: nothing stored', cannedAcl('bucket-owner-full-control', { ownerId: alice, bucketOwnerId: alice }), aclsOff, undefined],
      ['a named grant under BlockPublicAcls: stored', carolReads, blockPublic, carolReads],
    ])('%s', (_, acl, aclRules, stored) => {
      const command = put(acl === undefined ? {} : { acl, aclRules });
      spec.given([]).when(command).then([putEvent(stored === undefined ? {} : { acl: stored })]);
    });

    it.each<[string, AccessControlList, ObjectAclRules, MetadataErrorCode]>([
      ['public-read under BucketOwnerEnforced', cannedAcl('public-read', { ownerId: alice }), aclsOff, 'AccessControlListNotSupported'],
      ['a writer-owned ACL under BucketOwnerEnforced', bobPrivate, aclsOff, 'AccessControlListNotSupported'],
      ['public-read under BlockPublicAcls', bobPublic, blockPublic, 'AccessDenied'],
      ['authenticated-read under BlockPublicAcls', cannedAcl('authenticated-read', { ownerId: bob }), blockPublic, 'AccessDenied'],
      ['an owner that is no canonical id', { ownerId: 'bob', grants: [] }, aclsOn, 'InvalidArgument'],
    ])('refuses %s with %s', (_, acl, aclRules, code) => {
      spec.given([]).when(put({ acl, aclRules })).thenThrows(MetadataError, hasCode(code));
    });

    it('refuses an ACL that comes without its bucket\'s rules', () => spec.given([]).when(put({ acl: bobPublic })).thenThrows(MetadataError, hasCode('InvalidArgument')));

    it('a copy stores its own ACL, never its source\'s', () =>
      spec
        .given([])
        .when({
          type: 'CopyObject',
          ...ref,
          key: 'copy.pdf',
          keyId: keyIdOf('copy.pdf'),
          versionId: 'c1',
          versioning: 'Enabled',
          source: { bucket: 'shared', key: 'report.pdf', versionId: 'v1', sizeBytes: body.length, etag, checksums: {}, contentType: 'application/pdf', userMetadata: {}, chunks, storageClass: 'STANDARD', tags: [] },
          metadataDirective: 'COPY',
          taggingDirective: 'COPY',
          hlc,
          lastModified: at,
          acl: carolReads,
          aclRules: aclsOn,
        })
        .then([
          {
            type: 'ObjectVersionCopied',
            data: {
              ...putEvent().data,
              key: 'copy.pdf',
              keyId: keyIdOf('copy.pdf'),
              versionId: 'c1',
              source: { bucket: 'shared', key: 'report.pdf', versionId: 'v1' },
              acl: carolReads,
            },
          },
        ]));
  });

  describe('PutObjectAcl', () => {
    it('replaces the ACL of the current version, keeping its owner', () => {
      spec.given([putEvent({ acl: bobPrivate })]).when(putAcl({ ...bobPublic, ownerId: carol })).then([aclSet(bobPublic)]);
    });

    it('replaces the ACL of a named version only', () => {
      const v2 = putEvent({ versionId: 'v2', acl: bobPrivate });
      spec.given([putEvent({ acl: bobPrivate }), v2]).when(putAcl(carolReads, aclsOn, 'v1')).then([aclSet(carolReads, 'v1')]);
    });

    it('an object stored without one is the bucket owner\'s: its ACL is set with alice as owner', () => {
      const alicePublic = cannedAcl('public-read', { ownerId: alice });
      spec.given([putEvent()]).when(putAcl(alicePublic)).then([aclSet(alicePublic)]);
    });

    it('appends nothing when the ACL does not change', () => {
      spec.given([putEvent({ acl: bobPublic })]).when(putAcl(bobPublic)).then([]);
      spec.given([putEvent()]).when(putAcl(cannedAcl('private', { ownerId: alice }))).then([]);
    });

    it('back to the bucket owner\'s private is recorded (the stored ACL said otherwise)', () => {
      const alicePrivate = cannedAcl('private', { ownerId: alice });
      spec.given([putEvent({ acl: cannedAcl('public-read', { ownerId: alice }) })]).when(putAcl(alicePrivate)).then([aclSet(alicePrivate)]);
    });

    it.each<[string, ObjectKeyEvent[], PutObjectAcl, MetadataErrorCode]>([
      ['a missing key', [], putAcl(bobPublic), 'NoSuchKey'],
      ['a missing version', [putEvent()], putAcl(bobPublic, aclsOn, 'v9'), 'NoSuchVersion'],
      ['a delete marker named by version', [putEvent(), { type: 'DeleteMarkerPut', data: { ...ref, versionId: 'm1', hlc, lastModified: at } }], putAcl(bobPublic, aclsOn, 'm1'), 'MethodNotAllowed'],
      ['a key whose current version is a delete marker', [putEvent(), { type: 'DeleteMarkerPut', data: { ...ref, versionId: 'm1', hlc, lastModified: at } }], putAcl(bobPublic), 'NoSuchKey'],
      ['public-read under BucketOwnerEnforced', [putEvent()], putAcl(cannedAcl('public-read', { ownerId: alice }), aclsOff), 'AccessControlListNotSupported'],
      ['public-read under BlockPublicAcls', [putEvent({ acl: bobPrivate })], putAcl(bobPublic, blockPublic), 'AccessDenied'],
    ])('refuses %s', (_, given, command, code) => spec.given(given).when(command).thenThrows(MetadataError, hasCode(code)));

    it('takes the bucket owner\'s full control under BucketOwnerEnforced, and changes nothing', () =>
      spec.given([putEvent()]).when(putAcl(cannedAcl('bucket-owner-full-control', { ownerId: alice, bucketOwnerId: alice }), aclsOff)).then([]));
  });

  it('reads (HEAD) see each version\'s ACL, as put and as replaced', () => {
    const read = keyAsRead([putEvent({ acl: bobPrivate }), putEvent({ versionId: 'v2', hlc: '0000000002-0000-eu-one' }), aclSet(carolReads)]);
    expect(read.versions.find((v) => v.versionId === 'v1')?.acl).toEqual(carolReads);
    expect(read.versions.find((v) => v.versionId === 'v2')?.acl).toBeUndefined();
  });
});
