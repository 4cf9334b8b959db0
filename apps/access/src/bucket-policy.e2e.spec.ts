import { promises as fsp } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { eventually } from '@cairn/testing';
import { startS3Stack, type Credentials, type S3Stack, s3Failure as s3Error } from './testing/s3-stack.e2e-helper';

const { ensureDevCertificate } = require('../../../tools/dev-stack/dev-tls') as { ensureDevCertificate: (dir: string) => { caFile: string; certFile: string; keyFile: string } };


/** Bucket policies end to end: real AWS SDK calls and unsigned fetches against a region of real processes. */
describe('bucket policies (e2e)', () => {
  let stack: S3Stack;
  let alice: Credentials;
  let bob: Credentials;
  let asAlice: S3Client;
  let asBob: S3Client;
  const bucket = 'policy-e2e';
  const url = (endpoint: string, key: string) => `${endpoint}/${bucket}/${key}`;

  const policy = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'PublicReadOfPublic', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` },
      { Sid: 'BobReadsAll', Effect: 'Allow', Principal: { AWS: 'policy-bob' }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] },
      { Sid: 'BobDeletesScratch', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::policy-bob:root' }, Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${bucket}/scratch/*` },
      { Sid: 'NotBobSecrets', Effect: 'Deny', Principal: { AWS: 'policy-bob' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/private/secret*` },
      {
        Sid: 'AnonymousDropbox',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/dropbox/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
      { Sid: 'LoopbackOnly', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/local/*`, Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } },
      { Sid: 'NotFromHere', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/remote/*`, Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } },
      {
        Sid: 'TlsOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: `arn:aws:s3:::${bucket}/tls-only/*`,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };

  beforeAll(async () => {
    stack = await startS3Stack();
    alice = await stack.createAccessKey('policy-alice');
    bob = await stack.createAccessKey('policy-bob');
    asAlice = stack.client(alice);
    asBob = stack.client(bob);
    await asAlice.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of ['local/l.txt', 'remote/r.txt', 'public/a.txt', 'private/b.txt', 'private/secret.txt', 'tls-only/c.txt', 'scratch/1', 'keep/2']) {
      await asAlice.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
    }
  }, 120_000);

  afterAll(async () => {
    asAlice?.destroy();
    asBob?.destroy();
    await stack?.stop();
  });

  it('has no policy at first: NoSuchBucketPolicy, and anonymous and other users are refused', async () => {
    expect(await s3Error(asAlice.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({ name: 'NoSuchBucketPolicy', status: 404 });
    expect(await s3Error(asAlice.send(new GetBucketPolicyStatusCommand({ Bucket: bucket })))).toMatchObject({ name: 'NoSuchBucketPolicy', status: 404 });
    const anonymous = await fetch(url(stack.endpoint, 'public/a.txt'));
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');
    expect(await s3Error(asBob.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    // DeleteObjects, decided key by key once there is a policy, is refused whole without one.
    expect(await s3Error(asBob.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'keep/2' }] } })))).toMatchObject({ name: 'AccessDenied', status: 403 });
  });

  it('refuses malformed policies with MalformedPolicy and stores nothing', async () => {
    const bad = async (text: string) => s3Error(asAlice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: text })));
    expect(await bad('not json')).toMatchObject({ name: 'MalformedPolicy', status: 400, message: "Policies must be valid JSON and the first byte must be '{'" });
    expect(await bad(JSON.stringify({ ...policy, Statement: [{ ...policy.Statement[0], Resource: 'arn:aws:s3:::another-bucket/*' }] }))).toMatchObject({
      name: 'MalformedPolicy',
      message: 'Policy has invalid resource',
    });
    expect(await bad(JSON.stringify({ ...policy, Statement: [{ ...policy.Statement[0], Action: 's3:GetObjekt' }] }))).toMatchObject({ message: 'Policy has invalid action' });
    expect(await bad(JSON.stringify({ ...policy, Id: 'x'.repeat(21 * 1024) }))).toMatchObject({ name: 'MalformedPolicy' });
    expect(await s3Error(asAlice.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({ name: 'NoSuchBucketPolicy' });
  });

  it('only the owner (or root) may put a policy', async () => {
    expect(await s3Error(asBob.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) })))).toMatchObject({ name: 'AccessDenied' });
    const anonymous = await fetch(`${stack.endpoint}/${bucket}?policy`, { method: 'PUT', body: JSON.stringify(policy) });
    expect(anonymous.status).toBe(403);
  });

  it('puts a policy and reads it back with its status', async () => {
    await asAlice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    const got = await asAlice.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    expect(JSON.parse(got.Policy ?? '')).toEqual(policy);
    const status = await asAlice.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }));
    expect(status.PolicyStatus?.IsPublic).toBe(true);
  });

  it('lets anonymous GET exactly where the policy allows it, and nothing else', async () => {
    const ok = await fetch(url(stack.endpoint, 'public/a.txt'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('body of public/a.txt');
    expect((await fetch(url(stack.endpoint, 'public/a.txt'), { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(url(stack.endpoint, 'private/b.txt'))).status).toBe(403);
    expect((await fetch(url(stack.endpoint, 'public/new.txt'), { method: 'PUT', body: 'anonymous write' })).status).toBe(403);
    expect((await fetch(`${stack.endpoint}/${bucket}?list-type=2`)).status).toBe(403);
    expect((await fetch(`${stack.endpoint}/${bucket}?policy`)).status).toBe(403);
    // ListBuckets and CreateBucket stay signed-only.
    expect((await fetch(`${stack.endpoint}/`)).status).toBe(403);
    expect((await fetch(`${stack.endpoint}/anonymous-bucket`, { method: 'PUT' })).status).toBe(403);
  });

  it('lets anonymous PUT where the policy allows it, with the condition on s3:x-amz-acl', async () => {
    const put = (headers: Record<string, string>) => fetch(url(stack.endpoint, 'dropbox/note.txt'), { method: 'PUT', body: 'dropped', headers });
    expect((await put({})).status).toBe(403);
    expect((await put({ 'x-amz-acl': 'public-read' })).status).toBe(403);
    expect((await put({ 'x-amz-acl': 'bucket-owner-full-control' })).status).toBe(200);
    const got = await asAlice.send(new GetObjectCommand({ Bucket: bucket, Key: 'dropbox/note.txt' }));
    expect(await got.Body!.transformToString()).toBe('dropped');
    // Reading it back anonymously is another action, not allowed.
    expect((await fetch(url(stack.endpoint, 'dropbox/note.txt'))).status).toBe(403);
  });

  it('matches aws:SourceIp against the peer address', async () => {
    expect((await fetch(url(stack.endpoint, 'local/l.txt'))).status).toBe(200);
    expect((await fetch(url(stack.endpoint, 'remote/r.txt'))).status).toBe(403);
    // A forwarded-for header is not believed.
    expect((await fetch(url(stack.endpoint, 'remote/r.txt'), { headers: { 'x-forwarded-for': '192.0.2.9' } })).status).toBe(403);
  });

  it('answers odd anonymous requests on a bucket with a policy without a 5xx', async () => {
    const targets = [
      ['GET', '?policyStatus'],
      ['GET', '?versions'],
      ['GET', '?uploads'],
      ['GET', '?acl'],
      ['GET', '?tagging'],
      ['GET', '?location'],
      ['HEAD', ''],
      ['DELETE', ''],
      ['DELETE', '?policy'],
      ['POST', '?delete'],
      ['POST', '/public/a.txt?uploads'],
      ['PUT', '/public/a.txt?tagging'],
      ['GET', '/public/a.txt?acl'],
      ['GET', '/public/a.txt?versionId=nope'],
      ['GET', '/public/a.txt?partNumber=1'],
      ['GET', '/public/%ff%fe'],
      ['PUT', '/dropbox/x?partNumber=1&uploadId=nope'],
    ] as const;
    for (const [method, suffix] of targets) {
      const response = await fetch(`${stack.endpoint}/${bucket}${suffix}`, { method, ...(method === 'POST' || method === 'PUT' ? { body: '<x/>' } : {}) });
      expect([method, suffix, response.status < 500]).toEqual([method, suffix, true]);
    }
    const copy = await fetch(url(stack.endpoint, 'dropbox/copy'), { method: 'PUT', headers: { 'x-amz-copy-source': `/${bucket}/private/b.txt`, 'x-amz-acl': 'bucket-owner-full-control' } });
    // The write is allowed, reading the source is not: refused.
    expect(copy.status).toBe(403);
  });

  it('lets another user in where the policy allows, and an explicit Deny wins over an Allow', async () => {
    const got = await asBob.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' }));
    expect(await got.Body!.transformToString()).toBe('body of private/b.txt');
    expect(await s3Error(asBob.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/secret.txt' })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(asBob.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/b.txt', Body: 'overwritten' })))).toMatchObject({ name: 'AccessDenied' });
    // The owner is not named by the Deny on bob, so keeps reading its secrets.
    const own = await asAlice.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/secret.txt' }));
    expect(await own.Body!.transformToString()).toBe('body of private/secret.txt');
  });

  it('decides each key of a DeleteObjects on its own', async () => {
    const reply = await asBob.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'scratch/1' }, { Key: 'keep/2' }] } }));
    expect(reply.Deleted?.map((d) => d.Key)).toEqual(['scratch/1']);
    expect(reply.Errors?.map((e) => [e.Key, e.Code])).toEqual([['keep/2', 'AccessDenied']]);
    const kept = await asAlice.send(new GetObjectCommand({ Bucket: bucket, Key: 'keep/2' }));
    expect(await kept.Body!.transformToString()).toBe('body of keep/2');
  });

  it('denies plain HTTP by aws:SecureTransport, the owner included, and allows the same request over HTTPS', async () => {
    expect(await s3Error(asAlice.send(new GetObjectCommand({ Bucket: bucket, Key: 'tls-only/c.txt' })))).toMatchObject({ name: 'AccessDenied' });
    const tlsDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-policy-tls-'));
    try {
      const { caFile, certFile, keyFile } = ensureDevCertificate(tlsDir);
      const gateway = await stack.startGateway({ CAIRN_TLS_CERT_FILE: certFile, CAIRN_TLS_KEY_FILE: keyFile });
      const overTls = gateway.client(alice, { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: await fsp.readFile(caFile) }) }) });
      try {
        const got = await overTls.send(new GetObjectCommand({ Bucket: bucket, Key: 'tls-only/c.txt' }));
        expect(await got.Body!.transformToString()).toBe('body of tls-only/c.txt');
      } finally {
        overTls.destroy();
      }
    } finally {
      await fsp.rm(tlsDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps the policy in metadata: a newly started gateway enforces it, and a delete reaches it', async () => {
    const fresh = await stack.startGateway();
    const anonymous = await fetch(url(fresh.endpoint, 'public/a.txt'));
    expect(anonymous.status).toBe(200);
    expect((await fetch(url(fresh.endpoint, 'private/b.txt'))).status).toBe(403);

    await asAlice.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    // Deleting again is still a success, as in S3.
    await asAlice.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    expect(await s3Error(asAlice.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({ name: 'NoSuchBucketPolicy' });
    expect((await fetch(url(stack.endpoint, 'public/a.txt'))).status).toBe(403);
    // The other gateway hears of the change on the bucket's subject and drops its cached view.
    await eventually(async () => ((await fetch(url(fresh.endpoint, 'public/a.txt'))).status === 403 ? true : undefined), 10_000, 100);
    expect(await s3Error(asBob.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).toMatchObject({ name: 'AccessDenied' });
  }, 60_000);
});
