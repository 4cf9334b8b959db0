import type { EventEnvelope } from '../envelope';
import { changeFeedSubjects, formatChangeCursor, parseChangeCursor } from './change-feed.contract';
import { changeRecordOf, isChangeRecord, type ChangeRecord } from './change-record';

const ref = { bucket: 'photos.eu', key: 'a/b c.jpg', keyId: 'k'.repeat(64), incarnation: 7 };

function envelope(type: string, data: unknown, extra: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: 'evt-1',
    type,
    schemaVersion: 1,
    aggregateId: `${ref.bucket}/${ref.key}`,
    region: 'region-1',
    hlc: '000000000100-00000002',
    causationId: null,
    correlationId: null,
    occurredAt: '2026-12-02T10:00:01.000Z',
    data,
    ...extra,
  };
}

const version = {
  ...ref,
  versionId: 'v1',
  sizeBytes: 1234,
  etag: 'd41d8cd98f00b204e9800998ecf8427e',
  checksums: { sha256: 'x' },
  contentType: 'image/jpeg',
  userMetadata: { secret: 'owner-only' },
  contentHeaders: {},
  chunks: [{ hash: 'h'.repeat(64), sizeBytes: 1234 }],
  inline: 'AAAA',
  storageClass: 'STANDARD',
  tags: [],
  hlc: '000000000100-00000001',
  lastModified: '2026-12-02T10:00:00.000Z',
  region: 'region-1',
  vector: { 'region-1': 3 },
};

describe('changeRecordOf: the user-facing record of an object-key event', () => {
  it('maps a put to object.created with the version facts, and nothing internal', () => {
    const record = changeRecordOf(envelope('ObjectVersionPut', version), { bucketCreatedAt: '2026-12-01T00:00:00.000Z' });
    expect(record).toEqual<ChangeRecord>({
      schemaVersion: 1,
      id: 'evt-1',
      type: 'object.created',
      bucket: 'photos.eu',
      key: 'a/b c.jpg',
      versionId: 'v1',
      etag: 'd41d8cd98f00b204e9800998ecf8427e',
      sizeBytes: 1234,
      isDeleteMarker: false,
      isLatest: true,
      region: 'region-1',
      hlc: '000000000100-00000001',
      occurredAt: '2026-12-02T10:00:00.000Z',
      bucketCreatedAt: '2026-12-01T00:00:00.000Z',
    });
    const text = JSON.stringify(record);
    for (const internal of ['chunks', 'inline', 'checksums', 'userMetadata', 'vector', 'incarnation', 'keyId', 'owner-only']) expect(text).not.toContain(internal);
  });

  it('maps a copy to object.created, and a replicated arrival that lost to a noncurrent one', () => {
    const copied = changeRecordOf(envelope('ObjectVersionCopied', { ...version, source: { bucket: 'b', key: 'k', versionId: 'v0' } }));
    expect(copied).toMatchObject({ type: 'object.created', isLatest: true });
    expect(JSON.stringify(copied)).not.toContain('source');
    const arrival = changeRecordOf(envelope('ObjectVersionPut', { ...version, noncurrent: true }, { region: 'region-1', origin: 'region-2' }));
    expect(arrival).toMatchObject({ type: 'object.created', isLatest: false, region: 'region-2' });
  });

  it('names the region a replicated change came from (origin), else the region that wrote it', () => {
    expect(changeRecordOf(envelope('ObjectVersionPut', version))?.region).toBe('region-1');
    expect(changeRecordOf(envelope('ObjectVersionPut', version, { origin: 'region-3' }))?.region).toBe('region-3');
  });

  it('maps a delete marker, and the removal of a version or of a marker', () => {
    expect(changeRecordOf(envelope('DeleteMarkerPut', { ...ref, versionId: 'dm1', hlc: 'h-dm', lastModified: '2026-12-02T11:00:00.000Z' }))).toMatchObject({
      type: 'object.delete-marker',
      versionId: 'dm1',
      etag: null,
      sizeBytes: null,
      isDeleteMarker: true,
      isLatest: true,
      hlc: 'h-dm',
      occurredAt: '2026-12-02T11:00:00.000Z',
    });
    const removal = { ...ref, versionId: 'v1', wasCurrent: true, newCurrentVersionId: null };
    expect(changeRecordOf(envelope('ObjectVersionDeleted', { ...removal, wasDeleteMarker: false }))).toMatchObject({
      type: 'object.deleted',
      versionId: 'v1',
      isDeleteMarker: false,
      isLatest: null,
      hlc: '000000000100-00000002',
      occurredAt: '2026-12-02T10:00:01.000Z',
    });
    expect(changeRecordOf(envelope('ObjectVersionDeleted', { ...removal, wasDeleteMarker: true }))).toMatchObject({ type: 'object.deleted', isDeleteMarker: true });
  });

  it('maps tags set and removed to object.tags with the tags now', () => {
    expect(changeRecordOf(envelope('ObjectTagsSet', { ...ref, versionId: 'v1', tags: [{ key: 'a', value: '1' }] }))).toMatchObject({ type: 'object.tags', tags: [{ key: 'a', value: '1' }] });
    expect(changeRecordOf(envelope('ObjectTagsDeleted', { ...ref, versionId: 'v1' }))).toMatchObject({ type: 'object.tags', versionId: 'v1', tags: [] });
  });

  it('maps a resolved conflict to object.conflict naming winner and loser', () => {
    const record = changeRecordOf(
      envelope('ConflictResolved', {
        ...ref,
        conflictId: 'c1',
        winner: { versionId: 'vw', region: 'region-2', hlc: 'h2', kind: 'version' },
        loser: { versionId: 'null', region: 'region-1', hlc: 'h1', kind: 'version' },
        loserVersionId: 'vl',
        resolvedAt: '2026-12-02T12:00:00.000Z',
      }),
    );
    expect(record).toMatchObject({
      type: 'object.conflict',
      versionId: 'vw',
      conflict: { winner: { versionId: 'vw', region: 'region-2', kind: 'version' }, loser: { versionId: 'vl', region: 'region-1', kind: 'version' } },
      occurredAt: '2026-12-02T12:00:00.000Z',
    });
  });

  it('gives no record for an event users do not see as a change', () => {
    expect(changeRecordOf(envelope('ReplicatedChangeSkipped', { ...ref, changeType: 'ObjectTagsSet', versionId: 'v1', reason: 'gone' }))).toBeUndefined();
    expect(changeRecordOf(envelope('MultipartPartUploaded', { ...ref }))).toBeUndefined();
  });

  it('recognises its own records and refuses other shapes and newer schemas', () => {
    const record = changeRecordOf(envelope('ObjectVersionPut', version));
    expect(isChangeRecord(JSON.parse(JSON.stringify(record)))).toBe(true);
    expect(isChangeRecord({ ...record, schemaVersion: 2 })).toBe(false);
    expect(isChangeRecord({ ...record, type: 'object.exploded' })).toBe(false);
    expect(isChangeRecord(null)).toBe(false);
  });
});

describe('change feed subjects and cursors', () => {
  it('puts each bucket on its own subject of the CHANGES stream, under the namespace', () => {
    expect(changeFeedSubjects('')).toMatchObject({ stream: 'CHANGES' });
    expect(changeFeedSubjects('').bucket('photos.eu')).toBe('changes.photos_eu');
    expect(changeFeedSubjects('t1').stream).toBe('t1_CHANGES');
    expect(changeFeedSubjects('t1').bucket('b')).toBe('t1.changes.b');
    expect(changeFeedSubjects('t1').all()).toBe('t1.changes.>');
  });

  it('takes decimal stream sequences as cursors and nothing else', () => {
    expect(parseChangeCursor('0')).toBe(0);
    expect(parseChangeCursor('42')).toBe(42);
    expect(parseChangeCursor(formatChangeCursor(9_007_199_254_740_991))).toBe(9_007_199_254_740_991);
    for (const bad of ['', '-1', '1.5', 'abc', '12e3', ' 1', '9007199254740992', '99999999999999999']) expect(parseChangeCursor(bad)).toBeUndefined();
  });
});
