import { currentEnvelope, EVENT_SCHEMAS } from '../event-schemas';
import type { EventEnvelope } from '../envelope';
import { METADATA_EVENT_TYPES, MetadataEventSchemaVersions } from './metadata-events';
import type { ObjectVersionCopied, ObjectVersionPut } from './object.events';
import type { MultipartUploadCompletionWithdrawn, MultipartUploadInitiated } from './upload.events';

/** A raw envelope as a stream holds it, at the version it was appended with. */
function stored(type: string, schemaVersion: number, data: unknown): EventEnvelope {
  return {
    id: `e-${type}`,
    type,
    schemaVersion,
    aggregateId: 'photos/k',
    region: 'eu-one',
    hlc: '0000000001-0000-eu-one',
    causationId: null,
    correlationId: null,
    occurredAt: '2026-01-01T00:00:00.000Z',
    data,
  };
}

const keyRef = { bucket: 'photos', key: 'a.txt', keyId: 'ab'.repeat(32), incarnation: 3 };
/** An ObjectVersionPut's data as version 1 wrote it for a put without content headers. */
const versionV1 = {
  ...keyRef,
  versionId: 'v1',
  sizeBytes: 5,
  etag: '5d41402abc4b2a76b9719d911017c592',
  checksums: {},
  contentType: 'text/plain',
  userMetadata: {},
  chunks: [],
  storageClass: 'STANDARD',
  tags: [],
  hlc: '0000000001-0000-eu-one',
  lastModified: '2026-01-01T00:00:00.000Z',
};
/** A MultipartUploadInitiated's data as version 1 wrote it before bucket lives and content headers were recorded. */
const initiatedV1 = {
  bucket: 'photos',
  key: 'big.bin',
  keyId: 'cd'.repeat(32),
  uploadId: 'u1',
  owner: 'alice',
  initiatedAt: '2026-01-01T00:00:00.000Z',
  contentType: 'application/octet-stream',
  userMetadata: {},
  storageClass: 'STANDARD',
  tags: [],
};

describe('metadata event upcasters', () => {
  it('lift a version 1 ObjectVersionPut without content headers to version 2 with none', () => {
    const read = currentEnvelope(stored('ObjectVersionPut', 1, versionV1), 'META #1');
    const expected: ObjectVersionPut['data'] = { ...versionV1, storageClass: 'STANDARD', contentHeaders: {} };
    expect(read).toMatchObject({ type: 'ObjectVersionPut', schemaVersion: 3, id: 'e-ObjectVersionPut', aggregateId: 'photos/k' });
    expect(read.data).toEqual(expected);
  });

  it('keep the content headers a version 1 event did carry', () => {
    const contentHeaders = { 'cache-control': 'no-cache' };
    expect(currentEnvelope(stored('ObjectVersionPut', 1, { ...versionV1, contentHeaders }), 'META #1').data).toEqual({ ...versionV1, contentHeaders });
  });

  it('lift a version 1 ObjectVersionCopied', () => {
    const copied = { ...versionV1, source: { bucket: 'other', key: 'src', versionId: 's1' } };
    const expected: ObjectVersionCopied['data'] = { ...copied, storageClass: 'STANDARD', contentHeaders: {} };
    expect(currentEnvelope(stored('ObjectVersionCopied', 1, copied), 'META #2')).toMatchObject({ schemaVersion: 3, data: expected });
  });

  it('lift a version 1 MultipartUploadInitiated, leaving a missing bucket life missing (a rule of the deciders, not of the event)', () => {
    const read = currentEnvelope(stored('MultipartUploadInitiated', 1, initiatedV1), 'META #3');
    const expected: MultipartUploadInitiated['data'] = { ...initiatedV1, storageClass: 'STANDARD', contentHeaders: {} };
    expect(read).toMatchObject({ schemaVersion: 3, data: expected });
    expect(read.data).not.toHaveProperty('incarnation');
  });

  it('lift the upload a version 1 MultipartUploadCompletionWithdrawn carries', () => {
    const withdrawn = { bucket: 'photos', uploadId: 'u1', versionId: 'v9', withdrawnAt: '2026-01-02T00:00:00.000Z', upload: initiatedV1, parts: [] };
    const read = currentEnvelope(stored('MultipartUploadCompletionWithdrawn', 1, withdrawn), 'META #4');
    const expected: MultipartUploadCompletionWithdrawn['data'] = { ...withdrawn, upload: { ...initiatedV1, storageClass: 'STANDARD', contentHeaders: {} } };
    expect(read).toMatchObject({ schemaVersion: 3, data: expected });
  });

  it('leave events already at their current version as they are', () => {
    const current = stored('ObjectVersionPut', 3, { ...versionV1, contentHeaders: {} });
    expect(currentEnvelope(current, 'META #5')).toBe(current);
    const bucket = stored('BucketTagsDeleted', 1, { bucket: 'photos' });
    expect(currentEnvelope(bucket, 'META #6')).toBe(bucket);
  });

  it('lift the storage class names of before S3 names (REDUCED, COLD) in versions, uploads and buckets', () => {
    const reduced = currentEnvelope(stored('ObjectVersionPut', 2, { ...versionV1, contentHeaders: {}, storageClass: 'REDUCED' }), 'META #9');
    expect(reduced).toMatchObject({ schemaVersion: 3, data: { storageClass: 'REDUCED_REDUNDANCY' } });
    expect(currentEnvelope(stored('ObjectVersionCopied', 1, { ...versionV1, storageClass: 'COLD', source: { bucket: 'b', key: 'k', versionId: 'v' } }), 'M').data).toMatchObject({ storageClass: 'STANDARD' });
    expect(currentEnvelope(stored('MultipartUploadInitiated', 2, { ...initiatedV1, contentHeaders: {}, storageClass: 'REDUCED' }), 'M').data).toMatchObject({ storageClass: 'REDUCED_REDUNDANCY' });
    const withdrawn = { bucket: 'photos', uploadId: 'u1', versionId: 'v9', withdrawnAt: '2026-01-02T00:00:00.000Z', upload: { ...initiatedV1, storageClass: 'COLD' }, parts: [] };
    expect(currentEnvelope(stored('MultipartUploadCompletionWithdrawn', 1, withdrawn), 'M').data).toMatchObject({ upload: { storageClass: 'STANDARD', contentHeaders: {} } });
    expect(currentEnvelope(stored('BucketCreated', 1, { bucket: 'b', defaultStorageClass: 'REDUCED' }), 'M')).toMatchObject({ schemaVersion: 2, data: { defaultStorageClass: 'REDUCED_REDUNDANCY' } });
    expect(currentEnvelope(stored('BucketDefaultStorageClassChanged', 1, { bucket: 'b', defaultStorageClass: 'STANDARD' }), 'M').data).toEqual({ bucket: 'b', defaultStorageClass: 'STANDARD' });
  });

  it('lift a plaintext access-key secret (versions 1 and 2) into the shape sealed secrets share', () => {
    const v2 = { accessKeyId: 'CKEXAMPLEKEY0000000', secretAccessKey: 'plain-secret-value', owner: 'alice', canonicalId: 'c'.repeat(64), createdAt: '2026-01-01T00:00:00.000Z' };
    const { secretAccessKey: _plain, ...rest } = v2;
    expect(currentEnvelope(stored('AccessKeyCreated', 2, v2), 'META #10')).toMatchObject({ schemaVersion: 3, data: { ...rest, secret: { kind: 'plaintext', value: 'plain-secret-value' } } });
    expect(currentEnvelope(stored('AccessKeyCreated', 2, v2), 'META #10').data).not.toHaveProperty('secretAccessKey');
    const { canonicalId: _id, ...v1 } = v2;
    expect(currentEnvelope(stored('AccessKeyCreated', 1, v1), 'META #11').data).toMatchObject({ owner: 'alice', secret: { kind: 'plaintext', value: 'plain-secret-value' } });
  });

  it('refuse what is not an envelope, and an event newer than this code', () => {
    expect(() => currentEnvelope({ type: 'ObjectVersionPut' }, 'META #7')).toThrow('META #7 is not an event envelope');
    expect(() => currentEnvelope(stored('ObjectVersionPut', 4, versionV1), 'META #8')).toThrow(/newer than this reader's 3/);
  });

  it('reach every metadata event type from version 1', () => {
    for (const type of METADATA_EVENT_TYPES) {
      expect(EVENT_SCHEMAS.currentVersionOf(type)).toBe(MetadataEventSchemaVersions[type]);
      expect(EVENT_SCHEMAS.upcast(stored(type, 1, { bucket: 'photos', upload: {} })).schemaVersion).toBe(MetadataEventSchemaVersions[type]);
    }
  });
});
