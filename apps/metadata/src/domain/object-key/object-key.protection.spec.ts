import { createHash } from 'node:crypto';
import { deciderSpecification } from '@cairn/eventing';
import { keyIdOf } from '@cairn/hashing';
import type { ObjectEncryption, ObjectKeyEvent, ObjectRetention, ObjectVersionPut } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { objectKeyDecider } from './object-key.decider';
import type { ObjectKeyCommand, SetObjectLock } from './object-key.commands';

const spec = deciderSpecification(objectKeyDecider);
const ref = { bucket: 'vault', key: 'ledger.csv', keyId: keyIdOf('ledger.csv'), incarnation: 1 };
const hlc = '0000000001-0000-eu-one';
const body = 'row,row,row';
const now = '2026-06-01T00:00:00.000Z';
const later = '2026-06-02T00:00:00.000Z';
const muchLater = '2026-07-01T00:00:00.000Z';
const before = '2026-05-01T00:00:00.000Z';

function putEvent(versionId: string, extra: Partial<ObjectVersionPut['data']> = {}): ObjectVersionPut {
  return {
    type: 'ObjectVersionPut',
    data: {
      ...ref,
      versionId,
      sizeBytes: body.length,
      etag: createHash('md5').update(body).digest('hex'),
      checksums: {},
      contentType: 'text/csv',
      userMetadata: {},
      contentHeaders: {},
      chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length }],
      storageClass: 'STANDARD',
      tags: [],
      hlc,
      lastModified: before,
      ...extra,
    },
  };
}

const governance = (retainUntil: string): ObjectRetention => ({ mode: 'GOVERNANCE', retainUntil });
const compliance = (retainUntil: string): ObjectRetention => ({ mode: 'COMPLIANCE', retainUntil });
const deleteVersion = (versionId: string, extra: { bypassGovernance?: boolean; now?: string } = {}): ObjectKeyCommand => ({ type: 'DeleteObjectVersion', ...ref, versionId, now, ...extra });
const setLock = (extra: Partial<SetObjectLock>): SetObjectLock => ({ type: 'SetObjectLock', ...ref, versionId: 'v1', objectLockEnabled: true, now, ...extra });
const lockChanged = (data: { retention?: ObjectRetention | null; legalHold?: boolean }): ObjectKeyEvent => ({ type: 'ObjectLockChanged', data: { ...ref, versionId: 'v1', ...data } });
const removed: ObjectKeyEvent = { type: 'ObjectVersionDeleted', data: { ...ref, versionId: 'v1', wasDeleteMarker: false, wasCurrent: true, newCurrentVersionId: null } };
const locked = hasCode('ObjectLocked');

describe('object key decider: Object Lock', () => {
  describe('a version under retention', () => {
    it('COMPLIANCE: no removal before it ends, bypass or not; after it, removal as usual', () => {
      const given = [putEvent('v1', { retention: compliance(later) })];
      spec.given(given).when(deleteVersion('v1')).thenThrows(MetadataError, locked);
      spec.given(given).when(deleteVersion('v1', { bypassGovernance: true })).thenThrows(MetadataError, locked);
      spec.given(given).when(deleteVersion('v1', { now: muchLater })).then([removed]);
    });

    it('GOVERNANCE: refused without bypass, allowed with it', () => {
      const given = [putEvent('v1', { retention: governance(later) })];
      spec.given(given).when(deleteVersion('v1')).thenThrows(MetadataError, locked);
      spec.given(given).when(deleteVersion('v1', { bypassGovernance: true })).then([removed]);
    });

    it('a command without a clock counts every retention as running (never the unsafe side)', () =>
      spec.given([putEvent('v1', { retention: governance(later) })]).when({ type: 'DeleteObjectVersion', ...ref, versionId: 'v1' }).thenThrows(MetadataError, locked));

    it('a delete marker goes on top of a locked version (the version stays)', () =>
      spec
        .given([putEvent('v1', { retention: compliance(later) })])
        .when({ type: 'DeleteObject', ...ref, versionId: 'm1', versioning: 'Enabled', hlc, lastModified: now })
        .then([{ type: 'DeleteMarkerPut', data: { ...ref, versionId: 'm1', hlc, lastModified: now } }]));
  });

  describe('legal hold', () => {
    it('refuses removal while on, whatever the retention or bypass; allows it once off', () => {
      spec.given([putEvent('v1', { legalHold: true })]).when(deleteVersion('v1', { bypassGovernance: true })).thenThrows(MetadataError, locked);
      spec.given([putEvent('v1'), lockChanged({ legalHold: true })]).when(deleteVersion('v1')).thenThrows(MetadataError, locked);
      spec.given([putEvent('v1'), lockChanged({ legalHold: true }), lockChanged({ legalHold: false })]).when(deleteVersion('v1')).then([removed]);
    });

    it('is set and cleared, once each', () => {
      spec.given([putEvent('v1')]).when(setLock({ legalHold: true })).then([lockChanged({ legalHold: true })]);
      spec.given([putEvent('v1'), lockChanged({ legalHold: true })]).when(setLock({ legalHold: true })).then([]);
    });
  });

  describe('SetObjectLock (PutObjectRetention)', () => {
    it('needs Object Lock on the bucket', () =>
      spec.given([putEvent('v1')]).when(setLock({ objectLockEnabled: false, retention: governance(later) })).thenThrows(MetadataError, hasCode('InvalidRequest')));

    it('sets a retention in the future, refuses one in the past', () => {
      spec.given([putEvent('v1')]).when(setLock({ retention: governance(later) })).then([lockChanged({ retention: governance(later) })]);
      spec.given([putEvent('v1')]).when(setLock({ retention: governance(before) })).thenThrows(MetadataError, hasCode('InvalidArgument'));
    });

    it('COMPLIANCE is never shortened, removed or weakened, only extended', () => {
      const given = [putEvent('v1', { retention: compliance(later) })];
      spec.given(given).when(setLock({ retention: compliance(muchLater) })).then([lockChanged({ retention: compliance(muchLater) })]);
      spec.given(given).when(setLock({ retention: compliance('2026-06-01T12:00:00.000Z'), bypassGovernance: true })).thenThrows(MetadataError, locked);
      spec.given(given).when(setLock({ retention: null, bypassGovernance: true })).thenThrows(MetadataError, locked);
      spec.given(given).when(setLock({ retention: governance(muchLater), bypassGovernance: true })).thenThrows(MetadataError, locked);
    });

    it('GOVERNANCE is extended freely, shortened or removed only with bypass', () => {
      const given = [putEvent('v1', { retention: governance(later) })];
      spec.given(given).when(setLock({ retention: governance(muchLater) })).then([lockChanged({ retention: governance(muchLater) })]);
      spec.given(given).when(setLock({ retention: null })).thenThrows(MetadataError, locked);
      spec.given(given).when(setLock({ retention: null, bypassGovernance: true })).then([lockChanged({ retention: null })]);
      spec.given(given).when(setLock({ retention: compliance(muchLater) })).then([lockChanged({ retention: compliance(muchLater) })]);
    });

    it('an expired retention is replaced freely', () =>
      spec.given([putEvent('v1', { retention: compliance(before) })]).when(setLock({ retention: null })).then([lockChanged({ retention: null })]));
  });

  describe('an unversioned overwrite or delete is a removal too', () => {
    it('refuses replacing or deleting a null version that is locked', () => {
      const given = [putEvent('null', { legalHold: true })];
      spec
        .given(given)
        .when({
          type: 'PutObjectVersion',
          ...ref,
          versionId: 'x',
          versioning: 'Suspended',
          sizeBytes: 0,
          etag: createHash('md5').update('').digest('hex'),
          checksums: {},
          contentType: 'text/plain',
          userMetadata: {},
          chunks: [],
          storageClass: 'STANDARD',
          hlc,
          lastModified: now,
        })
        .thenThrows(MetadataError, locked);
      spec.given(given).when({ type: 'DeleteObject', ...ref, versionId: 'x', versioning: 'Unversioned', hlc, lastModified: now }).thenThrows(MetadataError, locked);
    });
  });
});

describe('object key decider: data keys', () => {
  const sseS3 = (keyId: string): ObjectEncryption => ({ scheme: 'SSE-S3', keyId, wrappedKey: `wrapped-by-${keyId}` });

  it('records the encryption a put carries', () =>
    spec
      .given([])
      .when({
        type: 'PutObjectVersion',
        ...ref,
        versionId: 'v1',
        versioning: 'Enabled',
        sizeBytes: body.length,
        etag: createHash('md5').update(body).digest('hex'),
        checksums: {},
        contentType: 'text/csv',
        userMetadata: {},
        chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length, iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
        storageClass: 'STANDARD',
        hlc,
        lastModified: before,
        encryption: sseS3('1'),
      })
      .then([
        putEvent('v1', {
          contentType: 'text/csv',
          chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length, iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
          encryption: sseS3('1'),
        }),
      ]));

  it('re-wraps a data key once, only while it is wrapped by the key named', () => {
    const given = [putEvent('v1', { encryption: sseS3('1') })];
    const rewrapped: ObjectKeyEvent = { type: 'ObjectDataKeyRewrapped', data: { ...ref, versionId: 'v1', encryption: sseS3('2') } };
    spec.given(given).when({ type: 'RewrapDataKey', ...ref, versionId: 'v1', fromKeyId: '1', encryption: sseS3('2') }).then([rewrapped]);
    spec.given([...given, rewrapped]).when({ type: 'RewrapDataKey', ...ref, versionId: 'v1', fromKeyId: '1', encryption: sseS3('2') }).then([]);
    spec.given([]).when({ type: 'RewrapDataKey', ...ref, versionId: 'v1', fromKeyId: '1', encryption: sseS3('2') }).then([]);
  });
});
