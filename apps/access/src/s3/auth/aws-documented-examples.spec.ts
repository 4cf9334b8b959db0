import { InMemoryAccessKeyLookup } from './access-key-lookup.port';
import { buildCanonicalRequest, canonicalQueryString } from './canonical-request';
import { parseRequestTarget } from '../routing/request-target';
import { SigV4Verifier } from './sigv4-verifier';

// The worked examples of the S3 documentation ("Signature Calculations for the Authorization
// Header" and "Query Parameters"), whose signatures were computed by AWS.
const EXAMPLE_KEY = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', owner: 'example', isRoot: false };
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const AT_MS = Date.UTC(2013, 4, 24, 0, 0, 1);
const verifier = new SigV4Verifier(new InMemoryAccessKeyLookup([EXAMPLE_KEY]));
const credential = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';

describe('the AWS documentation examples', () => {
  it('GET Object with a Range header', async () => {
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${credential},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
    };
    await expect(verifier.verify({ method: 'GET', target: parseRequestTarget('/test.txt'), headers }, AT_MS)).resolves.toMatchObject({ owner: 'example' });
  });

  it('GET Bucket lifecycle (a bare subresource)', async () => {
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${credential},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543`,
    };
    await expect(verifier.verify({ method: 'GET', target: parseRequestTarget('/?lifecycle'), headers }, AT_MS)).resolves.toBeDefined();
  });

  it('GET Bucket (list objects) with query parameters out of order', async () => {
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${credential},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`,
    };
    await expect(verifier.verify({ method: 'GET', target: parseRequestTarget('/?prefix=J&max-keys=2'), headers }, AT_MS)).resolves.toBeDefined();
  });

  it('a presigned GET valid for 86400 seconds', async () => {
    const target = parseRequestTarget(
      '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
        '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
    const headers = { host: 'examplebucket.s3.amazonaws.com' };
    await expect(verifier.verify({ method: 'GET', target, headers }, AT_MS)).resolves.toMatchObject({ via: 'presigned' });
    await expect(verifier.verify({ method: 'GET', target, headers }, AT_MS + 86_400_000)).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('builds the documented canonical request for GET Object', () => {
    expect(
      buildCanonicalRequest({
        method: 'GET',
        path: '/test.txt',
        query: [],
        headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z' },
        signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
        payloadHash: EMPTY_SHA256,
      }),
    ).toBe(
      'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
        `x-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
    );
  });

  it('sorts and strictly encodes the canonical query, with `uploads=` for a bare name and + as a space', () => {
    expect(canonicalQueryString(parseRequestTarget("/b?uploads&prefix=a+b/c&z=!*'()&a=2&a=1").query)).toBe(
      "a=1&a=2&prefix=a%20b%2Fc&uploads=&z=%21%2A%27%28%29",
    );
  });
});
