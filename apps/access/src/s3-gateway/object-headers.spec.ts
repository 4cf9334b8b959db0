import type { ObjectVersionView } from '@cairn/protocol';
import { contentHeadersFrom, objectHeaders } from './object-headers';

describe('stored content headers', () => {
  it('takes Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires and the website redirect from a write', () => {
    const stored = {
      'cache-control': 'max-age=60',
      'content-disposition': 'attachment; filename="a.txt"',
      'content-encoding': 'gzip',
      'content-language': 'de-CH',
      expires: 'Thu, 01 Jan 2037 00:00:00 GMT',
      'x-amz-website-redirect-location': '/elsewhere',
    };
    expect(contentHeadersFrom({ ...stored, 'content-type': 'text/plain', 'x-amz-meta-colour': 'blue' })).toEqual(stored);
  });

  it.each([
    ['aws-chunked', undefined],
    ['AWS-Chunked', undefined],
    ['aws-chunked,gzip', 'gzip'],
    ['gzip, aws-chunked', 'gzip'],
    ['aws-chunked, gzip, br', 'gzip,br'],
  ])('never stores aws-chunked, a transfer detail of the upload: Content-Encoding %j stores %j', (header, stored) => {
    expect(contentHeadersFrom({ 'content-encoding': header })['content-encoding']).toBe(stored);
  });

  it('stores nothing for headers not given or empty', () => {
    expect(contentHeadersFrom({ 'cache-control': '  ' })).toEqual({});
    expect(contentHeadersFrom({})).toEqual({});
  });

  it('answers GET and HEAD with the stored headers under their HTTP names', () => {
    const view = {
      key: 'k',
      versionId: 'null',
      isLatest: true,
      isDeleteMarker: false,
      sizeBytes: 1,
      etag: '0cc175b9c0f1b6a831c399e269772661',
      lastModified: '2026-01-01T00:00:00.000Z',
      storageClass: 'STANDARD',
      bucket: 'b',
      checksums: {},
      contentType: 'text/plain',
      userMetadata: {},
      contentHeaders: { 'cache-control': 'no-store', expires: 'Thu, 01 Jan 2037 00:00:00 GMT', 'x-amz-website-redirect-location': '/x' },
      tags: [],
      hlc: 'h',
      uploadId: null,
      partSizes: null,
      chunks: [],
    } satisfies ObjectVersionView;
    expect(objectHeaders(view, 'Unversioned')).toMatchObject({
      'Cache-Control': 'no-store',
      Expires: 'Thu, 01 Jan 2037 00:00:00 GMT',
      'x-amz-website-redirect-location': '/x',
    });
    expect(objectHeaders({ ...view, contentHeaders: {} }, 'Unversioned')).not.toHaveProperty('Cache-Control');
  });
});
