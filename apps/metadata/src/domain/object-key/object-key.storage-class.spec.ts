import { createHash } from 'node:crypto';
import { deciderSpecification } from '@cairn/eventing';
import { keyIdOf } from '@cairn/hashing';
import type { ChunkRef, ObjectKeyEvent, ObjectVersionPut } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import type { ChangeStorageClass } from './object-key.commands';
import { objectKeyDecider } from './object-key.decider';
import { keyAsRead, versionToServe } from '@cairn/key-reads';

const spec = deciderSpecification(objectKeyDecider);
const ref = { bucket: 'photos', key: 'cold.bin', keyId: keyIdOf('cold.bin'), incarnation: 1 };
const at = '2026-01-01T00:00:00.000Z';
const hlc = '0000000001-0000-eu-one';
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const body = 'hello';
const replicated: ChunkRef[] = [{ hash: sha(body), offsetBytes: 0, sizeBytes: body.length }];
const coded: ChunkRef[] = [
  { hash: sha(body), offsetBytes: 0, sizeBytes: body.length, erasure: { dataShards: 2, parityShards: 1, shardSizeBytes: 3, shards: [sha('a'), sha('b'), sha('c')] } },
];

function putEvent(versionId: string, storageClass: ObjectVersionPut['data']['storageClass'] = 'STANDARD'): ObjectVersionPut {
  return {
    type: 'ObjectVersionPut',
    data: {
      ...ref,
      versionId,
      sizeBytes: body.length,
      etag: md5(body),
      checksums: {},
      contentType: 'application/octet-stream',
      userMetadata: {},
      contentHeaders: {},
      chunks: replicated,
      storageClass,
      tags: [],
      hlc,
      lastModified: at,
    },
  };
}

function change(over: Partial<ChangeStorageClass> = {}): ChangeStorageClass {
  return {
    type: 'ChangeStorageClass',
    ...ref,
    versionId: 'v1',
    etag: md5(body),
    fromStorageClass: 'STANDARD',
    storageClass: 'GLACIER_IR',
    chunks: coded,
    changedAt: at,
    ...over,
  };
}

const changed: ObjectKeyEvent = {
  type: 'ObjectVersionStorageClassChanged',
  data: { ...ref, versionId: 'v1', previousStorageClass: 'STANDARD', storageClass: 'GLACIER_IR', chunks: coded, changedAt: at },
};

describe('ChangeStorageClass (lifecycle transitions swap a version chunk list)', () => {
  it('swaps the chunk list and class of a version in one event, noncurrent versions too', () => {
    spec.given([putEvent('v1')]).when(change()).then([changed]);
    spec.given([putEvent('v1'), putEvent('v2')]).when(change()).then([changed]);
  });

  it('is done already when the version has the class (a retried transition)', () =>
    spec.given([putEvent('v1'), changed]).when(change()).then([]));

  it('refuses a version no longer of the class or bytes the rewriter read (PreconditionFailed)', () => {
    spec.given([putEvent('v1', 'REDUCED_REDUNDANCY')]).when(change()).thenThrows(MetadataError, hasCode('PreconditionFailed'));
    spec.given([putEvent('v1')]).when(change({ etag: md5('other') })).thenThrows(MetadataError, hasCode('PreconditionFailed'));
  });

  it('answers NoSuchVersion for a version gone, MethodNotAllowed for a delete marker, InvalidStorageClass for an unknown class', () => {
    spec.given([]).when(change()).thenThrows(MetadataError, hasCode('NoSuchVersion'));
    spec.given([{ type: 'DeleteMarkerPut', data: { ...ref, versionId: 'v1', hlc, lastModified: at } }]).when(change()).thenThrows(MetadataError, hasCode('MethodNotAllowed'));
    spec.given([putEvent('v1')]).when(change({ storageClass: 'DEEP_ARCHIVE' })).thenThrows(MetadataError, hasCode('InvalidStorageClass'));
  });

  it('refuses chunks that do not cover the version', () =>
    spec.given([putEvent('v1')]).when(change({ chunks: [{ ...coded[0], sizeBytes: 4 }] })).thenThrows(MetadataError));

  it('carries no version vector: it is the region’s own record and never replicates', () => {
    const events = objectKeyDecider.decide({ ...change(), region: 'eu-one' }, [putEvent('v1')].reduce(objectKeyDecider.evolve, objectKeyDecider.initialState()));
    expect(events).toEqual([changed]);
  });

  it('is what GET and HEAD read: the new class and chunks, nothing else changed', () => {
    const read = versionToServe(keyAsRead([putEvent('v1'), changed]), 1, ref.bucket, ref.key);
    expect(read).toMatchObject({ versionId: 'v1', storageClass: 'GLACIER_IR', chunks: coded, etag: md5(body), sizeBytes: body.length, isLatest: true });
  });
});
