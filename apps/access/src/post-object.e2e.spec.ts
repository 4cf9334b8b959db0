import { createHash, createHmac } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutBucketCorsCommand, GetObjectTaggingCommand, HeadObjectCommand, PutBucketPolicyCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { deriveSigningKey, formatAmzDate } from './s3';
import { E2E_REGION, startS3Stack, type Credentials, type S3Stack } from './testing/s3-stack.e2e-helper';

interface FormOptions {
  readonly credentials?: Credentials;
  readonly conditions?: unknown[];
  readonly expiresInMs?: number;
  readonly fields: Record<string, string>;
  readonly file: Buffer | string;
  readonly filename?: string;
  /** Replaces the computed signature. */
  readonly signature?: string;
  readonly unsigned?: boolean;
}

/** A browser's POST form: the policy (base64 JSON) signed with the SigV4 signing key, the fields, then the file. */
function buildForm(options: FormOptions): FormData {
  const form = new FormData();
  const fields: Record<string, string> = { ...options.fields };
  if (!options.unsigned && options.credentials) {
    const nowMs = Date.now();
    const amzDate = formatAmzDate(nowMs);
    const date = amzDate.slice(0, 8);
    const credential = `${options.credentials.accessKeyId}/${date}/${E2E_REGION}/s3/aws4_request`;
    Object.assign(fields, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate });
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(nowMs + (options.expiresInMs ?? 10 * 60_000)).toISOString(),
        conditions: [
          ...(options.conditions ?? []),
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-credential': credential },
          { 'x-amz-date': amzDate },
        ],
      }),
    ).toString('base64');
    const signingKey = deriveSigningKey(options.credentials.secretAccessKey, date, E2E_REGION, 's3');
    fields['policy'] = policy;
    fields['x-amz-signature'] = options.signature ?? createHmac('sha256', signingKey).update(policy).digest('hex');
  }
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([options.file]), options.filename ?? 'upload.bin');
  return form;
}

function codeOf(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

function messageOf(xml: string): string | undefined {
  return /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
}

async function missing(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return false;
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return true;
    throw error;
  }
}

/** Browser-based uploads (POST Object) end to end: real multipart forms against a region of real processes. */
describe('POST Object (e2e)', () => {
  let stack: S3Stack;
  let alice: Credentials;
  let asAlice: S3Client;
  const bucket = 'post-e2e';
  const post = (form: FormData, init: RequestInit = {}) => fetch(`${stack.endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual', ...init });
  const baseConditions = [{ bucket }, ['starts-with', '$key', 'uploads/']];

  beforeAll(async () => {
    stack = await startS3Stack();
    alice = await stack.createAccessKey('post-alice');
    asAlice = stack.client(alice);
    await asAlice.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);

  afterAll(async () => {
    asAlice?.destroy();
    await stack?.stop();
  });

  it('stores a signed upload with its content type, metadata and tags, answering 204', async () => {
    const form = buildForm({
      credentials: alice,
      conditions: [...baseConditions, ['starts-with', '$Content-Type', 'text/'], ['eq', '$x-amz-meta-owner', 'alice'], ['starts-with', '$tagging', ''], ['content-length-range', 1, 1024]],
      fields: {
        key: 'uploads/${filename}',
        'Content-Type': 'text/plain',
        'x-amz-meta-owner': 'alice',
        tagging: '<Tagging><TagSet><Tag><Key>kind</Key><Value>note</Value></Tag></TagSet></Tagging>',
      },
      file: 'hello from a browser',
      filename: 'note.txt',
    });
    const response = await post(form);
    expect(response.status).toBe(204);
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    const object = await asAlice.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/note.txt' }));
    expect(await object.Body?.transformToString()).toBe('hello from a browser');
    expect(object.ContentType).toBe('text/plain');
    expect(object.Metadata).toEqual({ owner: 'alice' });
    expect(object.ETag).toBe(response.headers.get('etag'));
    const tagging = await asAlice.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'uploads/note.txt' }));
    expect(tagging.TagSet).toEqual([{ Key: 'kind', Value: 'note' }]);
  });

  it('answers success_action_status 201 with the XML PostResponse, and a redirect with 303', async () => {
    const created = await post(buildForm({ credentials: alice, conditions: [...baseConditions, { success_action_status: '201' }], fields: { key: 'uploads/201.txt', success_action_status: '201' }, file: 'x' }));
    expect(created.status).toBe(201);
    const xml = await created.text();
    expect(xml).toContain('<PostResponse');
    expect(xml).toContain(`<Bucket>${bucket}</Bucket>`);
    expect(xml).toContain('<Key>uploads/201.txt</Key>');
    expect(xml).toMatch(/<ETag>(&quot;|")[0-9a-f]{32}(&quot;|")<\/ETag>/);

    const redirect = 'https://app.example/done';
    const redirected = await post(buildForm({ credentials: alice, conditions: [...baseConditions, { success_action_redirect: redirect }], fields: { key: 'uploads/303.txt', success_action_redirect: redirect }, file: 'y' }));
    expect(redirected.status).toBe(303);
    const location = new URL(redirected.headers.get('location') as string);
    expect(location.origin + location.pathname).toBe(redirect);
    expect(location.searchParams.get('bucket')).toBe(bucket);
    expect(location.searchParams.get('key')).toBe('uploads/303.txt');
    expect(location.searchParams.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await missing(asAlice, bucket, 'uploads/303.txt')).toBe(false);
  });

  it('refuses each failing condition as S3 does, storing nothing', async () => {
    const cases: Array<{ key: string; form: FormOptions; code: string; message: string }> = [
      { key: 'elsewhere/a.txt', form: { credentials: alice, conditions: baseConditions, fields: { key: 'elsewhere/a.txt' }, file: 'a' }, code: 'AccessDenied', message: 'Invalid according to Policy: Policy Condition failed: ["starts-with","$key","uploads/"]' },
      { key: 'uploads/b.txt', form: { credentials: alice, conditions: [...baseConditions, ['eq', '$Content-Type', 'image/png']], fields: { key: 'uploads/b.txt', 'Content-Type': 'text/html' }, file: 'b' }, code: 'AccessDenied', message: 'Invalid according to Policy: Policy Condition failed: ["eq","$Content-Type","image/png"]' },
      { key: 'uploads/c.txt', form: { credentials: alice, conditions: baseConditions, fields: { key: 'uploads/c.txt', 'x-amz-meta-sneaky': '1' }, file: 'c' }, code: 'AccessDenied', message: 'Invalid according to Policy: Extra input fields: x-amz-meta-sneaky' },
      { key: 'uploads/d.txt', form: { credentials: alice, conditions: [{ bucket: 'another-bucket' }, ['starts-with', '$key', '']], fields: { key: 'uploads/d.txt' }, file: 'd' }, code: 'AccessDenied', message: 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "another-bucket"]' },
      { key: 'uploads/e.txt', form: { credentials: alice, conditions: baseConditions, expiresInMs: -1000, fields: { key: 'uploads/e.txt' }, file: 'e' }, code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' },
      { key: 'uploads/f.txt', form: { credentials: alice, conditions: [...baseConditions, ['content-length-range', 10, 100]], fields: { key: 'uploads/f.txt' }, file: 'short' }, code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed object size.' },
    ];
    for (const { key, form, code, message } of cases) {
      const response = await post(buildForm(form));
      const xml = await response.text();
      expect({ key, code: codeOf(xml), message: messageOf(xml)?.replace(/&quot;/g, '"') }).toEqual({ key, code, message });
      expect(await missing(asAlice, bucket, key)).toBe(true);
    }
  });

  it('refuses a file larger than content-length-range mid-stream', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const response = await post(buildForm({ credentials: alice, conditions: [...baseConditions, ['content-length-range', 0, 1024 * 1024]], fields: { key: 'uploads/big.bin' }, file: big }));
    expect(response.status).toBe(400);
    expect(codeOf(await response.text())).toBe('EntityTooLarge');
    expect(await missing(asAlice, bucket, 'uploads/big.bin')).toBe(true);
  });

  it('refuses a wrong signature and an unknown key', async () => {
    const wrong = await post(buildForm({ credentials: alice, conditions: baseConditions, fields: { key: 'uploads/w.txt' }, file: 'w', signature: '0'.repeat(64) }));
    expect([wrong.status, codeOf(await wrong.text())]).toEqual([403, 'SignatureDoesNotMatch']);
    const unknown = await post(buildForm({ credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'x' }, conditions: baseConditions, fields: { key: 'uploads/w.txt' }, file: 'w' }));
    expect([unknown.status, codeOf(await unknown.text())]).toEqual([403, 'InvalidAccessKeyId']);
    expect(await missing(asAlice, bucket, 'uploads/w.txt')).toBe(true);
  });

  it('refuses malformed forms with 4xx, never 5xx', async () => {
    const noFile = new FormData();
    noFile.append('key', 'uploads/nofile');
    const response = await post(noFile);
    expect([response.status, codeOf(await response.text())]).toEqual([400, 'IncorrectNumberOfFilesInPostRequest']);
    const garbage = await fetch(`${stack.endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zzz' }, body: 'this is not a form' });
    expect(garbage.status).toBe(400);
    const noBoundary = await fetch(`${stack.endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    expect([noBoundary.status, codeOf(await noBoundary.text())]).toEqual([400, 'MalformedPOSTRequest']);
  });

  it('checks x-amz-checksum-* fields against the streamed file, and refuses server-side encryption', async () => {
    const body = 'checksummed upload';
    const sha256 = createHash('sha256').update(body).digest('base64');
    const conditions = [...baseConditions, ['starts-with', '$x-amz-checksum-sha256', '']];
    const good = await post(buildForm({ credentials: alice, conditions, fields: { key: 'uploads/sum.txt', 'x-amz-checksum-sha256': sha256 }, file: body }));
    expect(good.status).toBe(204);
    expect(good.headers.get('x-amz-checksum-sha256')).toBe(sha256);
    const head = await asAlice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'uploads/sum.txt', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(sha256);
    const bad = await post(buildForm({ credentials: alice, conditions, fields: { key: 'uploads/badsum.txt', 'x-amz-checksum-sha256': sha256 }, file: 'other bytes' }));
    expect([bad.status, codeOf(await bad.text())]).toEqual([400, 'BadDigest']);
    expect(await missing(asAlice, bucket, 'uploads/badsum.txt')).toBe(true);
    const sse = await post(buildForm({ credentials: alice, conditions: [...baseConditions, { 'x-amz-server-side-encryption': 'AES256' }], fields: { key: 'uploads/sse.txt', 'x-amz-server-side-encryption': 'AES256' }, file: 's' }));
    expect([sse.status, codeOf(await sse.text())]).toEqual([501, 'NotImplemented']);
    expect(await missing(asAlice, bucket, 'uploads/sse.txt')).toBe(true);
  });

  it("carries the bucket's CORS headers, on success and refusal", async () => {
    const origin = 'https://forms.example';
    await asAlice.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['POST'], ExposeHeaders: ['ETag'] }] } }));
    const ok = await post(buildForm({ credentials: alice, conditions: baseConditions, fields: { key: 'uploads/cors.txt' }, file: 'c' }), { headers: { origin } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('access-control-expose-headers')).toBe('ETag');
    const refused = await post(buildForm({ credentials: alice, conditions: baseConditions, fields: { key: 'nope/cors.txt' }, file: 'c' }), { headers: { origin } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('takes an anonymous POST only where a bucket policy lets everyone put', async () => {
    const anonymous = () => post(buildForm({ unsigned: true, fields: { key: 'public-drop/anon.txt' }, file: 'anonymous bytes' }));
    const refused = await anonymous();
    expect([refused.status, codeOf(await refused.text())]).toEqual([403, 'AccessDenied']);
    expect(await missing(asAlice, bucket, 'public-drop/anon.txt')).toBe(true);
    await asAlice.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/public-drop/*` }] }),
      }),
    );
    const allowed = await anonymous();
    expect(allowed.status).toBe(204);
    const object = await asAlice.send(new GetObjectCommand({ Bucket: bucket, Key: 'public-drop/anon.txt' }));
    expect(await object.Body?.transformToString()).toBe('anonymous bytes');
    const elsewhere = await post(buildForm({ unsigned: true, fields: { key: 'private/anon.txt' }, file: 'no' }));
    expect([elsewhere.status, codeOf(await elsewhere.text())]).toEqual([403, 'AccessDenied']);

    // A form that ends inside its file part (no closing boundary) is malformed, not a server error.
    const truncated = [
      '--zzz\r\nContent-Disposition: form-data; name="key"\r\n\r\npublic-drop/truncated.txt\r\n',
      '--zzz\r\nContent-Disposition: form-data; name="file"; filename="t"\r\n\r\npartial bytes',
    ].join('');
    const cut = await fetch(`${stack.endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zzz' }, body: truncated });
    expect([cut.status, codeOf(await cut.text())]).toEqual([400, 'MalformedPOSTRequest']);
    expect(await missing(asAlice, bucket, 'public-drop/truncated.txt')).toBe(true);
  });
});
