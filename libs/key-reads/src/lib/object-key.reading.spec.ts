import { createHash } from 'node:crypto';
import { keyIdOf } from '@cairn/hashing';
import type { DeleteMarkerPut, ObjectKeyEvent, ObjectVersionDeleted, ObjectVersionPut } from '@cairn/protocol';
import type { MetadataError } from './metadata-error';
import { keyAsRead, keyReadFold, versionToServe } from './object-key.reading';

const key = 'a/b.txt';
const ref = { bucket: 'photos', key, keyId: keyIdOf(key), incarnation: 7 };
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

function put(versionId: string, body: string, over: Partial<ObjectVersionPut['data']> = {}): ObjectVersionPut {
  return {
    type: 'ObjectVersionPut',
    data: {
      ...ref,
      versionId,
      sizeBytes: body.length,
      etag: md5(body),
      checksums: { crc32: 'AAAAAA==' },
      contentType: 'text/plain',
      userMetadata: { colour: 'blue' },
      contentHeaders: {},
      chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length, inline: Buffer.from(body).toString('base64') }],
      storageClass: 'STANDARD',
      tags: [],
      hlc: `hlc-${versionId}`,
      lastModified: '2026-01-01T00:00:00.000Z',
      ...over,
    },
  };
}
const marker = (versionId: string): DeleteMarkerPut => ({ type: 'DeleteMarkerPut', data: { ...ref, versionId, hlc: 'h', lastModified: '2026-01-02T00:00:00.000Z' } });
const removed = (versionId: string, newCurrentVersionId: string | null, wasCurrent = true): ObjectVersionDeleted => ({
  type: 'ObjectVersionDeleted',
  data: { ...ref, versionId, wasDeleteMarker: false, wasCurrent, newCurrentVersionId },
});
const head = (events: ObjectKeyEvent[], versionId?: string) => versionToServe(keyAsRead(events), 7, 'photos', key, versionId);
const failure = (events: ObjectKeyEvent[], versionId?: string) => {
  try {
    head(events, versionId);
  } catch (error) {
    return error as MetadataError;
  }
  throw new Error('expected the read to fail');
};

describe('reading a key from its own events', () => {
  it('serves the current version with everything the write stored', () => {
    expect(head([put('null', 'hello')])).toEqual({
      bucket: 'photos',
      key,
      versionId: 'null',
      isLatest: true,
      isDeleteMarker: false,
      sizeBytes: 5,
      etag: md5('hello'),
      lastModified: '2026-01-01T00:00:00.000Z',
      storageClass: 'STANDARD',
      checksums: { crc32: 'AAAAAA==' },
      contentType: 'text/plain',
      userMetadata: { colour: 'blue' },
      contentHeaders: {},
      tags: [],
      hlc: 'hlc-null',
      uploadId: null,
      partSizes: null,
      chunks: put('null', 'hello').data.chunks,
    });
  });

  it('replaces the null version on overwrite and keeps named versions', () => {
    const events = [put('null', 'one'), put('null', 'two'), put('v3', 'three')];
    expect(head(events).versionId).toBe('v3');
    expect(head(events, 'null')).toMatchObject({ etag: md5('two'), isLatest: false });
    expect(keyAsRead(events).versions.map((v) => v.versionId)).toEqual(['v3', 'null']);
  });

  it('answers NoSuchKey behind a delete marker, naming it, and MethodNotAllowed for the marker itself', () => {
    const events = [put('v1', 'one'), marker('m1')];
    expect(failure(events).code).toBe('NoSuchKey');
    expect(failure(events).details).toMatchObject({ deleteMarker: true, versionId: 'm1' });
    expect(failure(events, 'm1').code).toBe('MethodNotAllowed');
    expect(head(events, 'v1')).toMatchObject({ isLatest: false, etag: md5('one') });
    expect(head([...events, removed('m1', 'v1')])).toMatchObject({ versionId: 'v1', isLatest: true });
  });

  it('answers NoSuchKey for a key never written or emptied, NoSuchVersion for an unknown version', () => {
    expect(failure([]).code).toBe('NoSuchKey');
    expect(failure([put('null', 'x'), removed('null', null)]).code).toBe('NoSuchKey');
    expect(failure([put('v1', 'x')], 'v9').code).toBe('NoSuchVersion');
  });

  it('follows tags set and deleted on a version', () => {
    const tags = [{ key: 'k', value: 'v' }];
    expect(head([put('v1', 'x'), { type: 'ObjectTagsSet', data: { ...ref, versionId: 'v1', tags } }]).tags).toEqual(tags);
    expect(head([put('v1', 'x'), { type: 'ObjectTagsSet', data: { ...ref, versionId: 'v1', tags } }, { type: 'ObjectTagsDeleted', data: { ...ref, versionId: 'v1' } }]).tags).toEqual([]);
  });

  it('answers from the bucket life it reads in: an earlier life is gone, a stray write of it is ignored, history from before lives counts', () => {
    const ofEarlierLife = put('v0', 'old', { incarnation: 3 });
    expect(failure([ofEarlierLife]).code).toBe('NoSuchKey');
    expect(head([ofEarlierLife, put('v2', 'new')]).versionId).toBe('v2');
    expect(head([put('v2', 'new'), ofEarlierLife]).versionId).toBe('v2');
    expect(head([put('v1', 'legacy', { incarnation: undefined })]).versionId).toBe('v1');
  });

  it('folds event by event to the same state as a whole history, so a kept state can be brought forward', () => {
    const events: ObjectKeyEvent[] = [put('null', 'a'), put('v2', 'b'), marker('m3'), removed('m3', 'v2'), put('null', 'c')];
    const stepwise = events.reduce(keyReadFold.evolve, keyReadFold.initial());
    expect(stepwise).toEqual(keyAsRead(events));
    expect(keyReadFold.sizeOf(stepwise)).toBeGreaterThan(0);
  });

  it('names the upload of a completed multipart version and its part sizes; a copy has neither upload nor part sizes unless copied', () => {
    expect(head([put('v1', 'x', { uploadId: 'u1', partSizes: [1] } as Partial<ObjectVersionPut['data']>)])).toMatchObject({ uploadId: 'u1', partSizes: [1] });
    const copied: ObjectKeyEvent = { type: 'ObjectVersionCopied', data: { ...put('v2', 'x').data, source: { bucket: 'b', key: 'k', versionId: 's' } } };
    expect(head([copied])).toMatchObject({ uploadId: null, partSizes: null });
  });
});
