import { createHash } from 'node:crypto';
import { deciderSpecification, handleCommand, InMemoryEventStore } from '@cairn/eventing';
import { keyIdOf } from '@cairn/hashing';
import type {
  DeleteMarkerPut,
  ObjectKeyEvent,
  ObjectVersionDeleted,
  ObjectVersionPut,
  VersioningStatus,
} from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { objectKeyDecider } from './object-key.decider';
import type { CopyObject, PutObjectVersion } from './object-key.commands';

const spec = deciderSpecification(objectKeyDecider);
/** Bucket life 1: every command and event of these cases is of the same life. */
const ref = { bucket: 'photos', key: 'a/b.txt', keyId: keyIdOf('a/b.txt'), incarnation: 1 };
const at = '2026-01-01T00:00:00.000Z';
const hlc = '0000000001-0000-eu-one';
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

function put(versioning: VersioningStatus, versionId: string, body = 'hello', over: Partial<PutObjectVersion> = {}): PutObjectVersion {
  return {
    type: 'PutObjectVersion',
    ...ref,
    versionId,
    versioning,
    sizeBytes: body.length,
    etag: md5(body),
    checksums: {},
    contentType: 'text/plain',
    userMetadata: {},
    chunks: body.length === 0 ? [] : [{ hash: hashOf(body), offsetBytes: 0, sizeBytes: body.length }],
    storageClass: 'STANDARD',
    hlc,
    lastModified: at,
    ...over,
  };
}

function putEvent(versionId: string, body = 'hello'): ObjectVersionPut {
  const c = put('Enabled', versionId, body);
  return {
    type: 'ObjectVersionPut',
    data: {
      ...ref,
      versionId,
      sizeBytes: c.sizeBytes,
      etag: c.etag,
      checksums: {},
      contentType: 'text/plain',
      userMetadata: {},
      contentHeaders: {},
      chunks: c.chunks,
      storageClass: 'STANDARD',
      tags: [],
      hlc,
      lastModified: at,
    },
  };
}

const marker = (versionId: string): DeleteMarkerPut => ({ type: 'DeleteMarkerPut', data: { ...ref, versionId, hlc, lastModified: at } });
const deleted = (versionId: string, wasDeleteMarker: boolean, wasCurrent: boolean, newCurrentVersionId: string | null): ObjectVersionDeleted => ({
  type: 'ObjectVersionDeleted',
  data: { ...ref, versionId, wasDeleteMarker, wasCurrent, newCurrentVersionId },
});
const deleteVersion = (versionId: string) => ({ type: 'DeleteObjectVersion', ...ref, versionId }) as const;

describe('object key decider', () => {
  describe('PutObjectVersion', () => {
    it('writes the null version when the bucket is unversioned, whatever id the shell proposed', () =>
      spec.given([]).when(put('Unversioned', 'v1')).then([putEvent('null')]));

    it('replaces the null version on a second unversioned put', () => {
      const history: ObjectKeyEvent[] = [putEvent('null', 'one'), putEvent('null', 'two')];
      spec.given(history).when(deleteVersion('null')).then([deleted('null', false, true, null)]);
    });

    it('keeps every version when versioning is enabled', () =>
      spec.given([putEvent('v1', 'one')]).when(put('Enabled', 'v2', 'two')).then([putEvent('v2', 'two')]));

    it('writes the null version when suspended, replacing the old null one but keeping real versions', () => {
      spec.given([putEvent('null', 'zero'), putEvent('v1', 'one')]).when(put('Suspended', 'v9', 'two')).then([putEvent('null', 'two')]);
      spec
        .given([putEvent('null', 'zero'), putEvent('v1', 'one'), putEvent('null', 'two')])
        .when(deleteVersion('null'))
        .then([deleted('null', false, true, 'v1')]);
    });

    it('treats a retried put of the same version id and etag as done', () =>
      spec.given([putEvent('v1')]).when(put('Enabled', 'v1', 'hello', { ifNoneMatch: '*' })).then([]));

    describe('a retried completion of a multipart upload', () => {
      const completed = (versionId: string, uploadId: string): ObjectVersionPut => {
        const event = putEvent(versionId);
        return { ...event, data: { ...event.data, uploadId } };
      };

      it('is done, not refused by its own If-None-Match, when its null version is still current', () =>
        spec.given([completed('null', 'u1')]).when(put('Unversioned', 'null', 'hello', { uploadId: 'u1', ifNoneMatch: '*' })).then([]));

      it('does not put its version again over a later write to the key', () =>
        spec.given([completed('null', 'u1'), putEvent('null', 'newer')]).when(put('Unversioned', 'null', 'hello', { uploadId: 'u1' })).then([]));

      it('does not mistake another upload of the key for a retry', () =>
        spec
          .given([completed('null', 'u1')])
          .when(put('Unversioned', 'null', 'hello', { uploadId: 'u2', ifNoneMatch: '*' }))
          .thenThrows(MetadataError, hasCode('PreconditionFailed')));
    });

    it('refuses a version id reused for other content', () =>
      spec.given([putEvent('v1', 'one')]).when(put('Enabled', 'v1', 'two')).thenThrows(MetadataError, hasCode('InvalidArgument')));

    it('refuses the id "null" for a versioned write', () =>
      spec.given([]).when(put('Enabled', 'null')).thenThrows(MetadataError, hasCode('InvalidArgument')));

    it('keeps the upload id of a completed multipart upload', () => {
      const etag = `${md5('x')}-2`;
      const event = putEvent('v1');
      spec
        .given([])
        .when(put('Enabled', 'v1', 'hello', { etag, uploadId: 'u1' }))
        .then([{ type: 'ObjectVersionPut', data: { ...event.data, etag, uploadId: 'u1' } }]);
    });

    describe('content headers', () => {
      const contentHeaders = { 'cache-control': 'max-age=60', 'content-disposition': 'attachment; filename="a.txt"', 'content-encoding': 'gzip', expires: 'Thu, 01 Jan 2037 00:00:00 GMT' };

      it('stores the content headers given', () =>
        spec.given([]).when(put('Enabled', 'v1', 'hello', { contentHeaders })).then([{ type: 'ObjectVersionPut', data: { ...putEvent('v1').data, contentHeaders } }]));

      it('records none (an empty set) for none given', () =>
        spec.given([]).when(put('Enabled', 'v1', 'hello', { contentHeaders: {} })).then([putEvent('v1')]));

      it('refuses a header S3 does not store, and an empty one', () => {
        spec.given([]).when(put('Enabled', 'v1', 'hello', { contentHeaders: { 'x-other': 'a' } as never })).thenThrows(MetadataError, hasCode('InvalidArgument'));
        spec.given([]).when(put('Enabled', 'v1', 'hello', { contentHeaders: { 'cache-control': '' } })).thenThrows(MetadataError, hasCode('InvalidArgument'));
      });

      it('refuses aws-chunked as a stored Content-Encoding: it is how the body travelled, not what it is', () =>
        spec
          .given([])
          .when(put('Enabled', 'v1', 'hello', { contentHeaders: { 'content-encoding': 'gzip, AWS-Chunked' } }))
          .thenThrows(MetadataError, hasCode('InvalidArgument')));

      it('refuses content headers over 8 KB together', () =>
        spec
          .given([])
          .when(put('Enabled', 'v1', 'hello', { contentHeaders: { 'content-disposition': 'x'.repeat(8192) } }))
          .thenThrows(MetadataError, hasCode('InvalidArgument')));
    });

    describe('part sizes of a completed upload', () => {
      const body = 'hello world';
      const etag = `${md5('x')}-2`;

      it('records them with the version', () => {
        const event = putEvent('v1', body);
        spec
          .given([])
          .when(put('Enabled', 'v1', body, { etag, uploadId: 'u1', partSizes: [6, 5] }))
          .then([{ type: 'ObjectVersionPut', data: { ...event.data, etag, uploadId: 'u1', partSizes: [6, 5] } }]);
      });

      it('refuses sizes that do not add up to the version, or count other than the etag says', () => {
        spec.given([]).when(put('Enabled', 'v1', body, { etag, uploadId: 'u1', partSizes: [6, 6] })).thenThrows(MetadataError, hasCode('InvalidArgument'));
        spec.given([]).when(put('Enabled', 'v1', body, { etag, uploadId: 'u1', partSizes: [11] })).thenThrows(MetadataError, hasCode('InvalidArgument'));
        spec.given([]).when(put('Enabled', 'v1', body, { etag, uploadId: 'u1', partSizes: [] })).thenThrows(MetadataError, hasCode('InvalidArgument'));
      });

      it('refuses part sizes on a version that is no completed upload', () =>
        spec.given([]).when(put('Enabled', 'v1', body, { etag, partSizes: [6, 5] })).thenThrows(MetadataError, hasCode('InvalidArgument')));
    });

    describe('conditional writes', () => {
      it('If-None-Match: * creates a missing key', () => spec.given([]).when(put('Enabled', 'v1', 'hello', { ifNoneMatch: '*' })).then([putEvent('v1')]));

      it('If-None-Match: * fails on an existing key', () =>
        spec.given([putEvent('v1')]).when(put('Enabled', 'v2', 'x', { ifNoneMatch: '*' })).thenThrows(MetadataError, hasCode('PreconditionFailed')));

      it('If-None-Match: * succeeds when the current version is a delete marker', () =>
        spec.given([putEvent('v1'), marker('m1')]).when(put('Enabled', 'v2', 'x', { ifNoneMatch: '*' })).then([putEvent('v2', 'x')]));

      it('If-None-Match with an etag is refused', () =>
        spec.given([]).when(put('Enabled', 'v1', 'x', { ifNoneMatch: 'abc' as '*' })).thenThrows(MetadataError, hasCode('InvalidArgument')));

      it('If-Match with the current etag, quoted or not, overwrites', () => {
        spec.given([putEvent('v1', 'one')]).when(put('Enabled', 'v2', 'two', { ifMatch: `"${md5('one')}"` })).then([putEvent('v2', 'two')]);
        spec.given([putEvent('v1', 'one')]).when(put('Enabled', 'v2', 'two', { ifMatch: md5('one') })).then([putEvent('v2', 'two')]);
      });

      it('If-Match with another etag fails with PreconditionFailed', () =>
        spec
          .given([putEvent('v1', 'one'), putEvent('v2', 'two')])
          .when(put('Enabled', 'v3', 'three', { ifMatch: md5('one') }))
          .thenThrows(MetadataError, hasCode('PreconditionFailed')));

      it('If-Match on a missing or deleted key answers NoSuchKey', () => {
        spec.given([]).when(put('Enabled', 'v1', 'x', { ifMatch: md5('x') })).thenThrows(MetadataError, hasCode('NoSuchKey'));
        spec.given([putEvent('v1', 'x'), marker('m1')]).when(put('Enabled', 'v2', 'x', { ifMatch: md5('x') })).thenThrows(MetadataError, hasCode('NoSuchKey'));
      });

      it('lets exactly one of 20 racing If-None-Match creates win', async () => {
        const store = new InMemoryEventStore();
        let ids = 0;
        const ctx = { region: 'eu-one', now: () => new Date(at), newId: () => `e${++ids}`, nextHlc: () => hlc };
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            handleCommand(store, objectKeyDecider, 'meta.object.photos.k', ref.keyId, put('Enabled', `v${i}`, `body ${i}`, { ifNoneMatch: '*' }), ctx),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost.map((r) => (r.reason as MetadataError).code)).toEqual(Array(19).fill('PreconditionFailed'));
        expect((await store.read('meta.object.photos.k')).events).toHaveLength(1);
      });
    });

    describe('bad input', () => {
      it('takes a key of exactly 1024 UTF-8 bytes, emoji included', () => {
        const key = '😀'.repeat(256);
        const keyRef = { key, keyId: keyIdOf(key) };
        const event = putEvent('v1');
        spec.given([]).when(put('Enabled', 'v1', 'hello', keyRef)).then([{ type: 'ObjectVersionPut', data: { ...event.data, ...keyRef } }]);
      });

      it('keeps a small body inline in the event, bytes and all', () => {
        const chunks = [{ hash: hashOf('hello'), offsetBytes: 0, sizeBytes: 5, inline: 'aGVsbG8=' }];
        const event = putEvent('v1');
        spec.given([]).when(put('Enabled', 'v1', 'hello', { chunks })).then([{ type: 'ObjectVersionPut', data: { ...event.data, chunks } }]);
      });

      it.each([
        ['a 1025-byte key', { key: `x${'😀'.repeat(256)}` }, 'KeyTooLongError'],
        ['an empty key', { key: '' }, 'InvalidArgument'],
        ['a key with a lone surrogate', { key: 'a\uD800b' }, 'InvalidArgument'],
        ['a key with NUL', { key: 'a\u0000b' }, 'InvalidArgument'],
        ['a key id that is not SHA-256 hex', { keyId: 'abc' }, 'InvalidArgument'],
        ['a quoted etag', { etag: `"${md5('hello')}"` }, 'InvalidArgument'],
        ['chunks with a gap', { chunks: [{ hash: hashOf('he'), offsetBytes: 0, sizeBytes: 2 }, { hash: hashOf('lo'), offsetBytes: 3, sizeBytes: 2 }] }, 'InvalidArgument'],
        ['chunks shorter than the body', { chunks: [{ hash: hashOf('he'), offsetBytes: 0, sizeBytes: 2 }] }, 'InvalidArgument'],
        ['inline bytes that are not base64', { chunks: [{ hash: hashOf('hello'), offsetBytes: 0, sizeBytes: 5, inline: 'aGVsbG8*' }] }, 'InvalidArgument'],
        ['inline bytes shorter than the chunk', { chunks: [{ hash: hashOf('hello'), offsetBytes: 0, sizeBytes: 5, inline: 'aGVsbA==' }] }, 'InvalidArgument'],
        [
          'an inline chunk larger than metadata keeps',
          { sizeBytes: 65_537, chunks: [{ hash: hashOf('hello'), offsetBytes: 0, sizeBytes: 65_537, inline: 'AAAA'.repeat(21_846).slice(0, -1) + '=' }] },
          'InvalidArgument',
        ],
        ['a chunk hash that is not SHA-256 hex', { chunks: [{ hash: 'nothex', offsetBytes: 0, sizeBytes: 5 }] }, 'InvalidArgument'],
        ['a negative size', { sizeBytes: -1, chunks: [] }, 'InvalidArgument'],
        ['a size over 5 TiB', { sizeBytes: 5 * 1024 ** 4 + 1, chunks: [] }, 'EntityTooLarge'],
        ['user metadata over 2 KB', { userMetadata: { big: 'x'.repeat(2048) } }, 'MetadataTooLarge'],
        ['11 tags', { tags: Array.from({ length: 11 }, (_, i) => ({ key: `t${i}`, value: '' })) }, 'InvalidTag'],
        ['an unknown storage class', { storageClass: 'GLACIER' as never }, 'InvalidStorageClass'],
      ] as const)('refuses %s', (_, over, code) =>
        spec.given([]).when(put('Enabled', 'v1', 'hello', over as Partial<PutObjectVersion>)).thenThrows(MetadataError, hasCode(code)),
      );
    });
  });

  describe('DeleteObject', () => {
    const del = (versioning: VersioningStatus, versionId = 'm1') => ({ type: 'DeleteObject', ...ref, versionId, versioning, hlc, lastModified: at }) as const;

    it('removes the null version of an unversioned key', () => spec.given([putEvent('null')]).when(del('Unversioned')).then([deleted('null', false, true, null)]));

    it('does nothing to a missing key of an unversioned bucket', () => spec.given([]).when(del('Unversioned')).then([]));

    it('puts a delete marker when versioning is enabled, even on a missing key', () => {
      spec.given([putEvent('v1')]).when(del('Enabled')).then([marker('m1')]);
      spec.given([]).when(del('Enabled')).then([marker('m1')]);
    });

    it('puts a null delete marker when suspended, which replaces the null version', () => {
      spec.given([putEvent('null', 'zero'), putEvent('v1', 'one')]).when(del('Suspended')).then([marker('null')]);
      spec
        .given([putEvent('null', 'zero'), putEvent('v1', 'one'), marker('null')])
        .when(deleteVersion('null'))
        .then([deleted('null', true, true, 'v1')]);
    });
  });

  describe('a conditional delete (S3 If-Match)', () => {
    const ifMatch = (etag: string) => ({ type: 'DeleteObject', ...ref, versionId: 'm1', versioning: 'Enabled', hlc, lastModified: at, ifMatch: etag }) as const;

    it("deletes only while the current version has that ETag ('*' matches any); another is PreconditionFailed, no current version NoSuchKey", () => {
      spec.given([putEvent('v1', 'one')]).when(ifMatch(`"${md5('one')}"`)).then([marker('m1')]);
      spec.given([putEvent('v1', 'one')]).when(ifMatch('*')).then([marker('m1')]);
      spec.given([putEvent('v1', 'one'), putEvent('v2', 'two')]).when(ifMatch(md5('one'))).thenThrows(MetadataError, hasCode('PreconditionFailed'));
      spec.given([putEvent('v1', 'one'), marker('m0')]).when(ifMatch('*')).thenThrows(MetadataError, hasCode('NoSuchKey'));
      spec.given([]).when(ifMatch('*')).thenThrows(MetadataError, hasCode('NoSuchKey'));
    });

    it('is evaluated against the current version when a version id is given too', () => {
      spec.given([putEvent('v1', 'one'), putEvent('v2', 'two')]).when({ ...deleteVersion('v1'), ifMatch: md5('two') }).then([deleted('v1', false, false, 'v2')]);
      spec.given([putEvent('v1', 'one'), putEvent('v2', 'two')]).when({ ...deleteVersion('v1'), ifMatch: md5('one') }).thenThrows(MetadataError, hasCode('PreconditionFailed'));
    });
  });

  describe('DeleteObjectVersion', () => {
    it('removes a noncurrent version and leaves the current one', () =>
      spec.given([putEvent('v1', 'one'), putEvent('v2', 'two')]).when(deleteVersion('v1')).then([deleted('v1', false, false, 'v2')]));

    it('promotes the newest remaining version when the current one goes', () =>
      spec
        .given([putEvent('v1', 'one'), putEvent('v2', 'two'), putEvent('v3', 'three')])
        .when(deleteVersion('v3'))
        .then([deleted('v3', false, true, 'v2')]));

    it('undeletes by removing the current delete marker', () =>
      spec.given([putEvent('v1'), marker('m1')]).when(deleteVersion('m1')).then([deleted('m1', true, true, 'v1')]));

    it('promotes correctly after a noncurrent version was removed', () =>
      spec
        .given([putEvent('v1', 'one'), putEvent('v2', 'two'), putEvent('v3', 'three'), deleted('v2', false, false, 'v3')])
        .when(deleteVersion('v3'))
        .then([deleted('v3', false, true, 'v1')]));

    it('answers NoSuchVersion for an unknown version', () =>
      spec.given([putEvent('v1')]).when(deleteVersion('v9')).thenThrows(MetadataError, hasCode('NoSuchVersion')));
  });

  describe('tags', () => {
    const tags = [{ key: 'project', value: 'cairn' }];
    const putTags = (versionId?: string) => ({ type: 'PutObjectTags', ...ref, tags, ...(versionId ? { versionId } : {}) }) as const;

    it('tags the current version', () =>
      spec.given([putEvent('v1'), putEvent('v2', 'x')]).when(putTags()).then([{ type: 'ObjectTagsSet', data: { ...ref, versionId: 'v2', tags } }]));

    it('tags a named version', () =>
      spec.given([putEvent('v1'), putEvent('v2', 'x')]).when(putTags('v1')).then([{ type: 'ObjectTagsSet', data: { ...ref, versionId: 'v1', tags } }]));

    it('answers NoSuchKey for a missing or deleted key and NoSuchVersion for an unknown version', () => {
      spec.given([]).when(putTags()).thenThrows(MetadataError, hasCode('NoSuchKey'));
      spec.given([putEvent('v1'), marker('m1')]).when(putTags()).thenThrows(MetadataError, hasCode('NoSuchKey'));
      spec.given([putEvent('v1')]).when(putTags('v7')).thenThrows(MetadataError, hasCode('NoSuchVersion'));
    });

    it('refuses to tag a delete marker with MethodNotAllowed', () =>
      spec.given([putEvent('v1'), marker('m1')]).when(putTags('m1')).thenThrows(MetadataError, hasCode('MethodNotAllowed')));

    it('refuses invalid tags', () =>
      spec.given([putEvent('v1')]).when({ type: 'PutObjectTags', ...ref, tags: [{ key: 'k'.repeat(129), value: '' }] }).thenThrows(MetadataError, hasCode('InvalidTag')));

    it('deletes tags, and does nothing when there are none', () => {
      spec
        .given([putEvent('v1'), { type: 'ObjectTagsSet', data: { ...ref, versionId: 'v1', tags } }])
        .when({ type: 'DeleteObjectTags', ...ref })
        .then([{ type: 'ObjectTagsDeleted', data: { ...ref, versionId: 'v1' } }]);
      spec.given([putEvent('v1')]).when({ type: 'DeleteObjectTags', ...ref }).then([]);
    });
  });

  describe('CopyObject', () => {
    const source = {
      bucket: 'other',
      key: 'src',
      versionId: 's1',
      sizeBytes: 5,
      etag: md5('hello'),
      checksums: { crc32c: 'AAAAAA==' },
      contentType: 'text/plain',
      userMetadata: { origin: 'camera' },
      chunks: [{ hash: hashOf('hello'), offsetBytes: 0, sizeBytes: 5 }],
      storageClass: 'STANDARD' as const,
      tags: [{ key: 'a', value: 'b' }],
    };
    const copy = (over: Partial<CopyObject> = {}): CopyObject => ({
      type: 'CopyObject',
      ...ref,
      versionId: 'c1',
      versioning: 'Enabled',
      source,
      metadataDirective: 'COPY',
      taggingDirective: 'COPY',
      hlc,
      lastModified: at,
      ...over,
    });
    const copied = (over: object = {}) => ({
      type: 'ObjectVersionCopied' as const,
      data: {
        ...ref,
        versionId: 'c1',
        sizeBytes: 5,
        etag: source.etag,
        checksums: source.checksums,
        contentType: 'text/plain',
        userMetadata: { origin: 'camera' },
        contentHeaders: {},
        chunks: source.chunks,
        storageClass: 'STANDARD' as const,
        tags: source.tags,
        hlc,
        lastModified: at,
        source: { bucket: 'other', key: 'src', versionId: 's1' },
        ...over,
      },
    });

    it('makes a new version that references the source chunks and keeps its metadata', () => spec.given([]).when(copy()).then([copied()]));

    it('replaces metadata and tags when told to', () =>
      spec
        .given([])
        .when(copy({ metadataDirective: 'REPLACE', contentType: 'image/png', userMetadata: {}, taggingDirective: 'REPLACE', tags: [] }))
        .then([copied({ contentType: 'image/png', userMetadata: {}, tags: [] })]));

    it('refuses a copy onto itself that changes nothing, with InvalidRequest', () =>
      spec
        .given([])
        .when(copy({ source: { ...source, bucket: ref.bucket, key: ref.key } }))
        .thenThrows(MetadataError, hasCode('InvalidRequest')));

    it('allows a copy onto itself that changes the storage class', () =>
      spec
        .given([])
        .when(copy({ source: { ...source, bucket: ref.bucket, key: ref.key }, storageClass: 'REDUCED_REDUNDANCY' }))
        .then([copied({ storageClass: 'REDUCED_REDUNDANCY', source: { bucket: ref.bucket, key: ref.key, versionId: 's1' } })]));

    it('honours If-None-Match on the destination', () =>
      spec.given([putEvent('v1')]).when(copy({ ifNoneMatch: '*' })).thenThrows(MetadataError, hasCode('PreconditionFailed')));

    it('writes the null version in an unversioned bucket', () => spec.given([]).when(copy({ versioning: 'Unversioned' })).then([copied({ versionId: 'null' })]));

    describe('content headers and parts', () => {
      const sourceHeaders = { 'cache-control': 'no-cache', 'content-language': 'en' };

      it("keeps the source's content headers with COPY, whatever the request gives", () =>
        spec
          .given([])
          .when(copy({ source: { ...source, contentHeaders: sourceHeaders }, contentHeaders: { 'cache-control': 'max-age=1' } }))
          .then([copied({ contentHeaders: sourceHeaders })]));

      it("replaces them with the request's with REPLACE, none given meaning none", () => {
        spec
          .given([])
          .when(copy({ source: { ...source, contentHeaders: sourceHeaders }, metadataDirective: 'REPLACE', contentHeaders: { 'content-disposition': 'inline' } }))
          .then([copied({ userMetadata: {}, contentHeaders: { 'content-disposition': 'inline' } })]);
        spec.given([]).when(copy({ source: { ...source, contentHeaders: sourceHeaders }, metadataDirective: 'REPLACE' })).then([copied({ userMetadata: {} })]);
      });

      it("keeps a multipart source's part sizes, which its etag names", () => {
        const multipartSource = { ...source, etag: `${md5('x')}-2`, partSizes: [3, 2] };
        spec.given([]).when(copy({ source: multipartSource })).then([copied({ etag: multipartSource.etag, partSizes: [3, 2] })]);
        spec.given([]).when(copy({ source: { ...multipartSource, partSizes: [4, 2] } })).thenThrows(MetadataError, hasCode('InvalidArgument'));
      });
    });
  });

  describe('bucket lives (a bucket name deleted and created again)', () => {
    const inLife = <E extends ObjectKeyEvent>(event: E, incarnation: number): E => ({ ...event, data: { ...event.data, incarnation } });
    const legacy = <E extends ObjectKeyEvent>(event: E): E => {
      const { incarnation: _dropped, ...data } = event.data;
      return { ...event, data } as E;
    };
    const life2 = { incarnation: 2 };

    it('creates a key with If-None-Match: * over versions of an earlier life', () =>
      spec
        .given([inLife(putEvent('v1', 'one'), 1)])
        .when(put('Enabled', 'v2', 'two', { ...life2, ifNoneMatch: '*' }))
        .then([inLife(putEvent('v2', 'two'), 2)]));

    it('does not see versions of an earlier life', () => {
      spec.given([inLife(putEvent('v1'), 1)]).when({ ...deleteVersion('v1'), ...life2 }).thenThrows(MetadataError, hasCode('NoSuchVersion'));
      spec
        .given([inLife(putEvent('v1', 'one'), 1), inLife(putEvent('v2', 'two'), 2)])
        .when({ ...deleteVersion('v2'), ...life2 })
        .then([inLife(deleted('v2', false, true, null), 2)]);
    });

    it('ignores a write of an earlier life that landed after the new life began (a put that lost a race with the delete)', () => {
      const history = [inLife(putEvent('v2', 'two'), 2), inLife(deleted('v2', false, true, null), 2), inLife(putEvent('stray', 'late'), 1)];
      spec.given(history).when(put('Enabled', 'v3', 'three', { ...life2, ifNoneMatch: '*' })).then([inLife(putEvent('v3', 'three'), 2)]);
      spec.given(history).when({ ...deleteVersion('stray'), ...life2 }).thenThrows(MetadataError, hasCode('NoSuchVersion'));
    });

    it('refuses a command of an earlier life than the key has seen, with NoSuchBucket', () =>
      spec.given([inLife(putEvent('v1'), 2)]).when(put('Enabled', 'v2', 'two', { incarnation: 1 })).thenThrows(MetadataError, hasCode('NoSuchBucket')));

    it('counts history written before incarnations were recorded for the life that writes next', () => {
      spec.given([legacy(putEvent('v1'))]).when(put('Enabled', 'v2', 'two', { ...life2, ifNoneMatch: '*' })).thenThrows(MetadataError, hasCode('PreconditionFailed'));
      spec.given([legacy(putEvent('v1')), inLife(putEvent('v2', 'two'), 2)]).when({ ...deleteVersion('v1'), ...life2 }).then([inLife(deleted('v1', false, false, 'v2'), 2)]);
    });

    it('refuses an incarnation that is not a positive integer', () =>
      spec.given([]).when(put('Enabled', 'v1', 'hello', { incarnation: 0 })).thenThrows(MetadataError, hasCode('InvalidArgument')));
  });
});
