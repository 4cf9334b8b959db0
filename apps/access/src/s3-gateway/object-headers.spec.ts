import { validateHeaderValue } from 'node:http';
import type { ObjectVersionView } from '@cairn/protocol';
import { S3Error } from '../s3';
import { contentHeadersFrom, decodeMetadataValue, encodeMetadataValue, objectHeaders, responseOverridesFrom, sendableHeaders } from './object-headers';

const VIEW = {
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
  contentHeaders: {},
  tags: [],
  hlc: 'h',
  uploadId: null,
  partSizes: null,
  chunks: [],
} satisfies ObjectVersionView;

/** Whether Node would write every value as given (setHeader throws ERR_INVALID_CHAR otherwise). */
function sendable(headers: Record<string, string>): boolean {
  return Object.entries(headers).every(([name, value]) => {
    try {
      validateHeaderValue(name, value);
      return true;
    } catch {
      return false;
    }
  });
}

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
      ...VIEW,
      contentHeaders: { 'cache-control': 'no-store', expires: 'Thu, 01 Jan 2037 00:00:00 GMT', 'x-amz-website-redirect-location': '/x' },
    } satisfies ObjectVersionView;
    expect(objectHeaders(view, 'Unversioned')).toMatchObject({
      'Cache-Control': 'no-store',
      Expires: 'Thu, 01 Jan 2037 00:00:00 GMT',
      'x-amz-website-redirect-location': '/x',
    });
    expect(objectHeaders({ ...view, contentHeaders: {} }, 'Unversioned')).not.toHaveProperty('Cache-Control');
  });
});

describe('response-* overrides of GetObject and HeadObject', () => {
  const query = (entries: Record<string, string>) => (name: string) => entries[name];

  it('map each override to the header it replaces', () => {
    expect(
      responseOverridesFrom(
        query({
          'response-content-type': 'text/csv; charset=utf-8',
          'response-content-disposition': 'attachment; filename="r%C3%A9sum%C3%A9.pdf"',
          'response-cache-control': 'no-cache',
          'response-content-encoding': 'gzip',
          'response-content-language': 'de-CH',
          'response-expires': 'Thu, 01 Jan 2037 00:00:00 GMT',
        }),
      ),
    ).toEqual({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': 'attachment; filename="r%C3%A9sum%C3%A9.pdf"',
      'Cache-Control': 'no-cache',
      'Content-Encoding': 'gzip',
      'Content-Language': 'de-CH',
      Expires: 'Thu, 01 Jan 2037 00:00:00 GMT',
    });
    expect(responseOverridesFrom(query({}))).toEqual({});
  });

  it.each([
    ['CR/LF (header injection)', 'response-content-type', 'text/plain\r\nSet-Cookie: a=b'],
    ['a bare LF', 'response-content-disposition', 'attachment\nx'],
    ['NUL', 'response-cache-control', 'no\u0000cache'],
    ['another control character', 'response-content-encoding', 'gz\u0007ip'],
    ['DEL', 'response-content-language', 'de\u007f'],
    ['non-ASCII', 'response-content-disposition', 'attachment; filename="r\u00e9sum\u00e9.pdf"'],
    ['characters beyond Latin-1', 'response-expires', '\u65e5\u672c'],
  ])('refuse %s with InvalidArgument (400) naming the parameter', (_what, name, value) => {
    let error: unknown;
    try {
      responseOverridesFrom(query({ [name]: value }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ code: 'InvalidArgument', httpStatus: 400, details: { ArgumentName: name } });
  });
});

describe('stored values on the way out (every answer goes out through sendableHeaders)', () => {
  it('pass ASCII unchanged and send non-ASCII metadata as one RFC 2047 UTF-8 word, as S3 does', () => {
    const headers = sendableHeaders(objectHeaders({ ...VIEW, userMetadata: { name: 'caf\u00e9', plain: 'abc' }, contentHeaders: { 'content-disposition': 'inline' } }, 'Unversioned'));
    expect(headers['x-amz-meta-name']).toBe(`=?UTF-8?B?${Buffer.from('caf\u00e9', 'utf8').toString('base64')}?=`);
    expect(headers['x-amz-meta-plain']).toBe('abc');
    expect(headers['Content-Disposition']).toBe('inline');
  });

  it('never make GET or HEAD fail: a value Node would refuse is sent RFC 2047-encoded, as S3 sends non-ASCII metadata', () => {
    const view: ObjectVersionView = {
      ...VIEW,
      contentType: 'text/plain\r\nx: y',
      userMetadata: { city: '\u65e5\u672c', control: 'a\u0000b' },
      contentHeaders: { 'content-disposition': 'attachment; filename="\u2603"', 'cache-control': 'no\ncache' },
    };
    const headers = sendableHeaders(objectHeaders(view, 'Unversioned'));
    expect(sendable(headers)).toBe(true);
    expect(headers['x-amz-meta-city']).toBe(`=?UTF-8?B?${Buffer.from('\u65e5\u672c', 'utf8').toString('base64')}?=`);
    expect(headers['Content-Type']).toBe(`=?UTF-8?B?${Buffer.from('text/plain\r\nx: y', 'utf8').toString('base64')}?=`);
  });
});

describe('non-ASCII user metadata', () => {
  it.each([
    ['plain ASCII kept', 'hello world', 'hello world'],
    ['an RFC 2047 B word decoded', '=?UTF-8?B?w6l0w6k=?=', 'été'],
    ['an RFC 2047 Q word decoded', '=?utf-8?Q?caf=C3=A9_au_lait?=', 'café au lait'],
    ['adjacent words joined', '=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=', 'éé'],
    ['raw UTF-8 bytes (read by Node as Latin-1) read as UTF-8', Buffer.from('naïve 日本', 'utf8').toString('latin1'), 'naïve 日本'],
    ['another charset kept as sent', '=?ISO-8859-1?Q?caf=E9?=', '=?ISO-8859-1?Q?caf=E9?='],
  ])('%s', (_, raw, expected) => expect(decodeMetadataValue(raw)).toBe(expected));

  it('answers non-ASCII values as one UTF-8 encoded-word and round-trips them', () => {
    expect(encodeMetadataValue('plain')).toBe('plain');
    expect(encodeMetadataValue('été')).toBe('=?UTF-8?B?w6l0w6k=?=');
    expect(decodeMetadataValue(encodeMetadataValue('naïve 日本'))).toBe('naïve 日本');
  });
});
