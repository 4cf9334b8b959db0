import { S3Error } from '../errors/s3.errors';
import { parseRequestTarget } from '../routing/request-target';
import { InMemoryAccessKeyLookup } from './access-key-lookup.port';
import { SigningKeyCache } from './signing-key';
import { presignWithSdk, signWithSdk, type TestCredentials } from './sigv4-test-signer';
import { SigV4Verifier, isAnonymousRequest, type SignableRequest } from './sigv4-verifier';

const SIGNED_AT = new Date('2026-03-14T15:09:26Z');
const NOW_MS = SIGNED_AT.getTime() + 1_000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const alice: TestCredentials = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice/secret+with=odd~bytes ü' };
const root: TestCredentials = { accessKeyId: 'AKIAROOT', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

const keys = new InMemoryAccessKeyLookup([
  { ...alice, owner: 'alice', isRoot: false },
  { ...root, owner: 'admin', isRoot: true },
]);

async function rejection(promise: Promise<unknown>): Promise<S3Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

function withHeader(request: SignableRequest, name: string, value: string): SignableRequest {
  return { ...request, headers: { ...request.headers, [name]: value } };
}

describe('SigV4Verifier with header signatures from the AWS SDK signer', () => {
  const verifier = new SigV4Verifier(keys);

  const oddKeys = [
    'plain.txt',
    'dir/sub dir/with space.txt',
    'plus+sign+key',
    'tilde~and-dot._',
    "bang!star*quote'paren()",
    'unicode/ü/日本語/😀.bin',
    'percent%20literal',
    'equals=amp&question?hash#',
    'double//slash/',
    'trailing space ',
  ];

  it.each(oddKeys)('accepts a GET of key %j', async (key) => {
    const request = await signWithSdk(alice, { method: 'GET', bucket: 'photos', key, headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    const result = await verifier.verify(request, NOW_MS);
    expect(result).toMatchObject({ accessKeyId: 'AKIAALICE', owner: 'alice', isRoot: false, via: 'header' });
    expect(result.payload).toEqual({ kind: 'sha256', sha256Hex: EMPTY_SHA256 });
    expect(request.target.path).toBe(`/photos/${key}`);
  });

  it('accepts query parameters with odd bytes and bare subresources', async () => {
    const request = await signWithSdk(
      root,
      {
        method: 'GET',
        bucket: 'photos',
        query: { 'list-type': '2', prefix: 'a b/c+d~ü', delimiter: '/', 'start-after': "x!*'()", uploads: '' },
        headers: { 'x-amz-content-sha256': EMPTY_SHA256 },
      },
      SIGNED_AT,
    );
    await expect(verifier.verify(request, NOW_MS)).resolves.toMatchObject({ owner: 'admin', isRoot: true });
  });

  it('canonicalises header values (trims, collapses inner whitespace) as the signer does', async () => {
    const request = await signWithSdk(
      alice,
      { method: 'PUT', bucket: 'b', key: 'k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-meta-note': '  hello    wide   world  ' } },
      SIGNED_AT,
    );
    const result = await verifier.verify(request, NOW_MS);
    expect(result.payload).toEqual({ kind: 'unsigned' });
  });

  it.each([
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'streaming-signed'],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'streaming-signed'],
    ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'streaming-unsigned-trailer'],
  ])('reports %s payloads as %s, with the seed signature for chunk verification', async (marker, kind) => {
    const request = await signWithSdk(
      alice,
      { method: 'PUT', bucket: 'b', key: 'k', headers: { 'x-amz-content-sha256': marker, 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' } },
      SIGNED_AT,
    );
    const result = await verifier.verify(request, NOW_MS);
    expect(result.payload.kind).toBe(kind);
    if (result.payload.kind === 'streaming-signed') {
      const signature = /Signature=([0-9a-f]{64})/.exec(request.headers['authorization'] as string)?.[1];
      expect(result.payload.signing.seedSignature).toBe(signature);
      expect(result.payload.signing.scope).toBe('20260314/us-east-1/s3/aws4_request');
      expect(result.payload.signing.amzDate).toBe('20260314T150926Z');
      expect(result.payload.trailer).toBe(marker.endsWith('TRAILER'));
    }
  });

  describe('tampering', () => {
    let original: SignableRequest;
    beforeAll(async () => {
      original = await signWithSdk(
        alice,
        { method: 'PUT', bucket: 'b', key: 'dir/file+1.txt', query: { tagging: '' }, headers: { 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-meta-a': '1' } },
        SIGNED_AT,
      );
      await expect(verifier.verify(original, NOW_MS)).resolves.toBeDefined();
    });

    const tampers: ReadonlyArray<readonly [string, (r: SignableRequest) => SignableRequest]> = [
      ['method', (r) => ({ ...r, method: 'DELETE' })],
      ['path', (r) => ({ ...r, target: parseRequestTarget('/b/dir/file%201.txt?tagging') })],
      ['plus decoded as space in path', (r) => ({ ...r, target: parseRequestTarget('/b/dir/file 1.txt?tagging') })],
      ['query', (r) => ({ ...r, target: parseRequestTarget('/b/dir/file%2B1.txt?tagging&versionId=1') })],
      ['signed header value', (r) => withHeader(r, 'x-amz-meta-a', '2')],
      ['host', (r) => withHeader(r, 'host', 'evil:9000')],
      ['payload hash', (r) => withHeader(r, 'x-amz-content-sha256', 'UNSIGNED-PAYLOAD')],
      ['signature', (r) => withHeader(r, 'authorization', (r.headers['authorization'] as string).replace(/Signature=./, 'Signature=0'))],
    ];

    it.each(tampers)('refuses a changed %s with SignatureDoesNotMatch', async (_name, tamper) => {
      const error = await rejection(verifier.verify(tamper(original), NOW_MS));
      expect(error.code).toBe('SignatureDoesNotMatch');
      expect(error.httpStatus).toBe(403);
    });

    it('refuses a signature made with the wrong secret', async () => {
      const forged = await signWithSdk({ ...alice, secretAccessKey: 'not-alices' }, { method: 'GET', bucket: 'b', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
      expect((await rejection(verifier.verify(forged, NOW_MS))).code).toBe('SignatureDoesNotMatch');
    });

    it('refuses an x-amz-* header added after signing with AccessDenied', async () => {
      const error = await rejection(verifier.verify(withHeader(original, 'x-amz-meta-sneaky', 'yes'), NOW_MS));
      expect(error.code).toBe('AccessDenied');
      expect(error.details['HeadersNotSigned']).toBe('x-amz-meta-sneaky');
    });

    it('ignores unsigned non-amz headers such as user-agent', async () => {
      await expect(verifier.verify(withHeader(original, 'user-agent', 'curl'), NOW_MS)).resolves.toBeDefined();
    });
  });

  it('answers InvalidAccessKeyId for an unknown key', async () => {
    const request = await signWithSdk({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' }, { method: 'GET', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    const error = await rejection(verifier.verify(request, NOW_MS));
    expect([error.code, error.httpStatus]).toEqual(['InvalidAccessKeyId', 403]);
  });

  it('answers RequestTimeTooSkewed beyond 15 minutes either way, and accepts just within', async () => {
    const request = await signWithSdk(alice, { method: 'GET', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    const fifteenMinutesMs = 15 * 60 * 1000;
    await expect(verifier.verify(request, SIGNED_AT.getTime() + fifteenMinutesMs)).resolves.toBeDefined();
    expect((await rejection(verifier.verify(request, SIGNED_AT.getTime() + fifteenMinutesMs + 1))).code).toBe('RequestTimeTooSkewed');
    expect((await rejection(verifier.verify(request, SIGNED_AT.getTime() - fifteenMinutesMs - 1))).code).toBe('RequestTimeTooSkewed');
  });

  it('refuses anonymous requests with AccessDenied', async () => {
    const error = await rejection(verifier.verify({ method: 'GET', target: parseRequestTarget('/b/k'), headers: { host: 'x' } }, NOW_MS));
    expect(error.code).toBe('AccessDenied');
  });

  it('takes a Signature Version 2 query (the aws CLI v1 presign) as signed, not anonymous, and refuses it with InvalidRequest as S3 does', async () => {
    const request: SignableRequest = { method: 'GET', target: parseRequestTarget('/b/k?AWSAccessKeyId=AKIAALICE&Signature=c2ln&Expires=1773500000'), headers: { host: 'x' } };
    expect(isAnonymousRequest(request)).toBe(false);
    const error = await rejection(verifier.verify(request, NOW_MS));
    expect(error).toMatchObject({ code: 'InvalidRequest', httpStatus: 400 });
    expect(error.message).toBe('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  });

  it('answers MissingSecurityHeader when x-amz-content-sha256 is absent and InvalidArgument when it is nonsense', async () => {
    const bare = await signWithSdk(alice, { method: 'GET' }, SIGNED_AT);
    expect((await rejection(verifier.verify(bare, NOW_MS))).code).toBe('MissingSecurityHeader');
    const nonsense = await signWithSdk(alice, { method: 'GET', headers: { 'x-amz-content-sha256': 'banana' } }, SIGNED_AT);
    expect((await rejection(verifier.verify(nonsense, NOW_MS))).code).toBe('InvalidArgument');
  });

  it.each([
    ['AWS4-HMAC-SHA256 Credential=AKIAALICE/20260314/us-east-1/s3/aws4_request, SignedHeaders=host', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAALICE/20260314/us-east-1/s3, SignedHeaders=host, Signature=00', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAALICE/20260314/us-east-1/s3/aws4_request, SignedHeaders=Host;X-Amz-Date, Signature=00', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAALICE/20260314/us-east-1/s3/aws4_request, Credential=x, SignedHeaders=host, Signature=00', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAALICE/20260314/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAALICE/20260313/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 Credential=AKIAALICE/20260314/us-east-1/s3/aws4_request, SignedHeaders=x-amz-content-sha256;x-amz-date, Signature=00', 'AuthorizationHeaderMalformed'],
    ['AWS AKIAALICE:c2lnbmF0dXJl', 'InvalidRequest'],
    ['AWS4-HMAC-SHA256 ' + 'x'.repeat(9_000), 'AuthorizationHeaderMalformed'],
  ])('refuses the malformed header %j with %s', async (authorization, code) => {
    const request: SignableRequest = {
      method: 'GET',
      target: parseRequestTarget('/b'),
      headers: { host: 'localhost:9000', authorization, 'x-amz-date': '20260314T150926Z', 'x-amz-content-sha256': EMPTY_SHA256 },
    };
    expect((await rejection(verifier.verify(request, NOW_MS))).code).toBe(code);
  });

  it('refuses a region other than the configured one with AuthorizationHeaderMalformed naming the right one', async () => {
    const strict = new SigV4Verifier(keys, { region: 'eu-cairn-1' });
    const request = await signWithSdk(alice, { method: 'GET', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    const error = await rejection(strict.verify(request, NOW_MS));
    expect(error.code).toBe('AuthorizationHeaderMalformed');
    expect(error.details['Region']).toBe('eu-cairn-1');
    const good = await signWithSdk({ ...alice, region: 'eu-cairn-1' }, { method: 'GET', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    await expect(strict.verify(good, NOW_MS)).resolves.toBeDefined();
  });

  it("refuses by default a signature scoped to a region other than us-east-1, as S3 does: the region 'eu-west-1' is wrong", async () => {
    const header = await signWithSdk({ ...alice, region: 'eu-west-1' }, { method: 'GET', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    const headerError = await rejection(verifier.verify(header, NOW_MS));
    expect(headerError).toMatchObject({ code: 'AuthorizationHeaderMalformed', httpStatus: 400 });
    expect(headerError.message).toBe("The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    expect(headerError.details).toEqual({ Region: 'us-east-1' });

    const presigned = await presignWithSdk({ ...alice, region: 'eu-west-1' }, { method: 'GET', bucket: 'b', key: 'k' }, SIGNED_AT, 60);
    const presignedError = await rejection(verifier.verify(presigned, NOW_MS));
    expect(presignedError).toMatchObject({ code: 'AuthorizationQueryParametersError', httpStatus: 400 });
    expect(presignedError.message).toBe("Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    expect(presignedError.details).toEqual({ Region: 'us-east-1' });
  });

  it('refuses both auth mechanisms at once', async () => {
    const presigned = await presignWithSdk(alice, { method: 'GET', bucket: 'b', key: 'k' }, SIGNED_AT, 60);
    const both = withHeader(presigned, 'authorization', 'AWS4-HMAC-SHA256 Credential=a/20260314/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0');
    expect((await rejection(verifier.verify(both, NOW_MS))).code).toBe('InvalidArgument');
  });

  it('caches signing keys per date/region/service/key and never serves a stale key after rotation', async () => {
    const cache = new SigningKeyCache();
    const rotating = new InMemoryAccessKeyLookup([{ ...alice, owner: 'alice', isRoot: false }]);
    const cached = new SigV4Verifier(rotating, { signingKeyCache: cache });
    const request = await signWithSdk(alice, { method: 'GET', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    await cached.verify(request, NOW_MS);
    await cached.verify(request, NOW_MS);
    expect(cache.size).toBe(1);
    const rotated = new SigV4Verifier(new InMemoryAccessKeyLookup([{ ...alice, secretAccessKey: 'rotated', owner: 'alice', isRoot: false }]), {
      signingKeyCache: cache,
    });
    expect((await rejection(rotated.verify(request, NOW_MS))).code).toBe('SignatureDoesNotMatch');
  });
});

describe('SigV4Verifier with presigned URLs from the AWS SDK presigner', () => {
  const verifier = new SigV4Verifier(keys);

  it.each(['report.pdf', 'with space/and+plus', "odd!*'()~/ü😀"])('accepts a presigned GET of %j within its expiry', async (key) => {
    const request = await presignWithSdk(alice, { method: 'GET', bucket: 'docs', key, query: { 'response-content-type': 'text/plain; charset=utf-8' } }, SIGNED_AT, 3600);
    expect(request.headers['authorization']).toBeUndefined();
    const result = await verifier.verify(request, SIGNED_AT.getTime() + 3_599_000);
    expect(result).toMatchObject({ owner: 'alice', via: 'presigned', payload: { kind: 'unsigned' } });
  });

  it('accepts a presigned PUT whose client adds an unsigned Content-Type', async () => {
    const request = await presignWithSdk(alice, { method: 'PUT', bucket: 'docs', key: 'upload.bin', headers: { 'content-type': 'application/octet-stream' } }, SIGNED_AT, 600);
    await expect(verifier.verify(withHeader(request, 'content-type', 'image/png'), NOW_MS)).resolves.toMatchObject({ via: 'presigned' });
  });

  it('refuses an expired URL with AccessDenied', async () => {
    const request = await presignWithSdk(alice, { method: 'GET', bucket: 'docs', key: 'k' }, SIGNED_AT, 60);
    await expect(verifier.verify(request, SIGNED_AT.getTime() + 60_000)).resolves.toBeDefined();
    const error = await rejection(verifier.verify(request, SIGNED_AT.getTime() + 60_001));
    expect([error.code, error.message]).toEqual(['AccessDenied', 'Request has expired']);
  });

  it('refuses a URL signed too far in the future with AccessDenied', async () => {
    const request = await presignWithSdk(alice, { method: 'GET', bucket: 'docs', key: 'k' }, SIGNED_AT, 60);
    const error = await rejection(verifier.verify(request, SIGNED_AT.getTime() - 16 * 60 * 1000));
    expect([error.code, error.message]).toEqual(['AccessDenied', 'Request is not valid yet']);
  });

  function replaceParam(request: SignableRequest, name: string, value: string | undefined): SignableRequest {
    const query = request.target.query.filter((param) => param.name !== name);
    return { ...request, target: { ...request.target, query: value === undefined ? query : [...query, { name, value, hasValue: true }] } };
  }

  it.each([
    ['X-Amz-Expires', '604801'],
    ['X-Amz-Expires', '-5'],
    ['X-Amz-Expires', '0'],
    ['X-Amz-Expires', 'soon'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA1'],
    ['X-Amz-Date', '2026-03-14T15:09:26Z'],
    ['X-Amz-Date', '20260230T150926Z'],
    ['X-Amz-Credential', 'AKIAALICE/20260314/us-east-1'],
    ['X-Amz-SignedHeaders', undefined],
    ['X-Amz-SignedHeaders', 'x-amz-date'],
  ])('answers AuthorizationQueryParametersError when %s is %j', async (name, value) => {
    const request = await presignWithSdk(alice, { method: 'GET', bucket: 'docs', key: 'k' }, SIGNED_AT, 60);
    expect((await rejection(verifier.verify(replaceParam(request, name, value), NOW_MS))).code).toBe('AuthorizationQueryParametersError');
  });

  it('accepts the maximum expiry of 604800 seconds', async () => {
    const request = await presignWithSdk(alice, { method: 'GET', bucket: 'docs', key: 'k' }, SIGNED_AT, 604_800);
    await expect(verifier.verify(request, SIGNED_AT.getTime() + 604_800_000)).resolves.toBeDefined();
  });

  it.each([
    ['signature', (r: SignableRequest) => replaceParam(r, 'X-Amz-Signature', '0'.repeat(64))],
    ['expiry (lengthened)', (r: SignableRequest) => replaceParam(r, 'X-Amz-Expires', '7200')],
    ['path', (r: SignableRequest) => ({ ...r, target: { ...r.target, path: '/docs/other' } })],
    ['method', (r: SignableRequest) => ({ ...r, method: 'DELETE' })],
    ['added query parameter', (r: SignableRequest) => replaceParam(r, 'versionId', 'v1')],
  ])('refuses a presigned URL with a changed %s', async (_name, tamper) => {
    const request = await presignWithSdk(alice, { method: 'GET', bucket: 'docs', key: 'k' }, SIGNED_AT, 3600);
    expect((await rejection(verifier.verify(tamper(request), NOW_MS))).code).toBe('SignatureDoesNotMatch');
  });
});
