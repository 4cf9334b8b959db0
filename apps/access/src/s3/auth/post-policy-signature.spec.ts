import { createHmac } from 'node:crypto';
import { S3Error } from '../errors/s3.errors';
import { InMemoryAccessKeyLookup } from './access-key-lookup.port';
import { SigV4Verifier, type PostSignatureFields } from './sigv4-verifier';

const alice = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', owner: 'alice', isRoot: false };
const verifier = new SigV4Verifier(new InMemoryAccessKeyLookup([alice]));
const policy = Buffer.from(JSON.stringify({ expiration: '2026-12-31T00:00:00Z', conditions: [{ bucket: 'b' }] })).toString('base64');

/** The signing key computed step by step, independently of signing-key.ts. */
function sign(secret: string, date: string, region: string, text: string): string {
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(text).digest('hex');
}

const valid: PostSignatureFields = {
  algorithm: 'AWS4-HMAC-SHA256',
  credential: 'AKIAALICE/20261202/us-east-1/s3/aws4_request',
  amzDate: '20261202T080000Z',
  policy,
  signature: sign('alice-secret', '20261202', 'us-east-1', policy),
};

async function refusal(form: PostSignatureFields): Promise<S3Error> {
  try {
    await verifier.verifyPostPolicy(form);
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('SigV4Verifier.verifyPostPolicy (POST Object)', () => {
  it('names the key whose signing key signed the base64 policy', async () => {
    await expect(verifier.verifyPostPolicy(valid)).resolves.toMatchObject({ accessKeyId: 'AKIAALICE', owner: 'alice', isRoot: false });
  });

  it('refuses a signature over anything else, or by another secret', async () => {
    expect((await refusal({ ...valid, signature: sign('alice-secret', '20261202', 'us-east-1', `${policy}x`) })).code).toBe('SignatureDoesNotMatch');
    expect((await refusal({ ...valid, signature: sign('other', '20261202', 'us-east-1', policy) })).code).toBe('SignatureDoesNotMatch');
  });

  it('checks the scope as for presigned URLs: region, service, date', async () => {
    expect((await refusal({ ...valid, credential: 'AKIAALICE/20261202/eu-west-1/s3/aws4_request' })).code).toBe('AuthorizationQueryParametersError');
    expect((await refusal({ ...valid, credential: 'AKIAALICE/20261202/us-east-1/ec2/aws4_request' })).code).toBe('AuthorizationQueryParametersError');
    expect((await refusal({ ...valid, amzDate: '20261203T080000Z' })).code).toBe('AuthorizationQueryParametersError');
    expect((await refusal({ ...valid, credential: 'nonsense' })).code).toBe('AuthorizationQueryParametersError');
  });

  it('refuses missing or unknown fields and keys', async () => {
    expect((await refusal({ ...valid, algorithm: 'AWS4-HMAC-SHA1' })).code).toBe('InvalidArgument');
    expect((await refusal({ ...valid, credential: undefined })).code).toBe('InvalidArgument');
    expect((await refusal({ ...valid, amzDate: 'yesterday' })).code).toBe('InvalidArgument');
    expect((await refusal({ ...valid, signature: undefined })).code).toBe('InvalidArgument');
    expect((await refusal({ ...valid, credential: 'AKIANOBODY/20261202/us-east-1/s3/aws4_request' })).code).toBe('InvalidAccessKeyId');
  });
});
