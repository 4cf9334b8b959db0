import { createHash, createHmac } from 'node:crypto';
import { parseRequestTarget } from '../routing/request-target';
import { InMemoryAccessKeyLookup } from './access-key-lookup.port';
import { presignWithSdk } from './sigv4-test-signer';
import { SigV4Verifier, type SignableRequest } from './sigv4-verifier';

const key = { accessKeyId: 'AKIADATE', secretAccessKey: 'date-secret', owner: 'dana', isRoot: false };
const verifier = new SigV4Verifier(new InMemoryAccessKeyLookup([key]));
const EMPTY_SHA256 = createHash('sha256').digest('hex');
const hmac = (k: Buffer | string, data: string) => createHmac('sha256', k).update(data).digest();

/** Signs by hand from the spec, with the time in the Date header instead of x-amz-date. */
function signWithDateHeader(date: string, amzDate: string): SignableRequest {
  const headers = { host: 'localhost:9000', date, 'x-amz-content-sha256': EMPTY_SHA256 };
  const canonical = ['GET', '/bkt/k', '', `date:${date}`, 'host:localhost:9000', `x-amz-content-sha256:${EMPTY_SHA256}`, '', 'date;host;x-amz-content-sha256', EMPTY_SHA256].join('\n');
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, amzDate.slice(0, 8)), 'us-east-1'), 's3'), 'aws4_request');
  const signature = hmac(signingKey, stringToSign).toString('hex');
  return {
    method: 'GET',
    target: parseRequestTarget('/bkt/k'),
    headers: { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${signature}` },
  };
}

describe('SigV4 request time and payload details', () => {
  const at = Date.UTC(2026, 2, 14, 15, 9, 26);

  it('takes the request time from the Date header when x-amz-date is absent', async () => {
    const request = signWithDateHeader('Sat, 14 Mar 2026 15:09:26 GMT', '20260314T150926Z');
    await expect(verifier.verify(request, at)).resolves.toMatchObject({ owner: 'dana' });
    await expect(verifier.verify(request, at + 16 * 60 * 1000)).rejects.toMatchObject({ code: 'RequestTimeTooSkewed' });
  });

  it('refuses a request without a usable date with AccessDenied', async () => {
    const request = signWithDateHeader('Sat, 14 Mar 2026 15:09:26 GMT', '20260314T150926Z');
    const { date: _date, ...withoutDate } = request.headers;
    await expect(verifier.verify({ ...request, headers: withoutDate }, at)).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(verifier.verify({ ...request, headers: { ...withoutDate, 'x-amz-date': '2026-03-14' } }, at)).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('uses a presigned X-Amz-Content-Sha256 as the payload hash, and refuses a bad one', async () => {
    const sha = createHash('sha256').update('body').digest('hex');
    const presigned = await presignWithSdk({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, { method: 'PUT', bucket: 'bkt', key: 'k' }, new Date(at), 60);
    // The S3 presigner hoists x-amz-content-sha256=UNSIGNED-PAYLOAD into the query.
    expect(presigned.target.query.some((p) => p.name.toLowerCase() === 'x-amz-content-sha256')).toBe(true);
    await expect(verifier.verify(presigned, at)).resolves.toMatchObject({ payload: { kind: 'unsigned' } });
    const bad = {
      ...presigned,
      target: { ...presigned.target, query: presigned.target.query.map((p) => (p.name.toLowerCase() === 'x-amz-content-sha256' ? { ...p, value: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' } : p)) },
    };
    await expect(verifier.verify(bad, at)).rejects.toMatchObject({ code: 'AuthorizationQueryParametersError' });
    const hashed = { ...bad, target: { ...bad.target, query: bad.target.query.map((p) => (p.value === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' ? { ...p, value: sha } : p)) } };
    await expect(verifier.verify(hashed, at)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('refuses a credential scope with the wrong terminator', async () => {
    const request = signWithDateHeader('Sat, 14 Mar 2026 15:09:26 GMT', '20260314T150926Z');
    const authorization = (request.headers['authorization'] as string).replace('aws4_request', 'aws5_request');
    await expect(verifier.verify({ ...request, headers: { ...request.headers, authorization } }, at)).rejects.toMatchObject({ code: 'AuthorizationHeaderMalformed' });
  });
});
