import { createHash, createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketVersioningCommand,
  GetBucketTaggingCommand,
  PutBucketTaggingCommand,
  DeleteBucketTaggingCommand,
  GetBucketAclCommand,
  PutBucketAclCommand,
  GetObjectAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { canonicalIdOf, subjectsFor } from '@cairn/protocol';
import { eventually, testOperatorToken } from '@cairn/testing';
import { E2E_CHUNK_SIZE_BYTES, E2E_REGION, startS3Stack, type Credentials, type S3Stack } from './testing/s3-stack.e2e-helper';
import { DEFAULT_INLINE_OBJECT_MAX_BYTES } from './access.config';

const MiB = 1024 * 1024;
const RACERS = 20;
const PRESIGN_EXPIRES_SECONDS = 300;

/** The S3 error a call failed with: code, HTTP status, request id. */
async function s3Failure(call: Promise<unknown>): Promise<{ code: string; status: number; requestId?: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof S3ServiceException) return { code: error.name, status: error.$metadata.httpStatusCode ?? 0, requestId: error.$metadata.requestId };
    throw error;
  }
  throw new Error('expected the call to fail');
}

function crc32Base64(bytes: Buffer): string {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(bytes) >>> 0);
  return value.toString('base64');
}

async function bodyOf(output: { Body?: { transformToByteArray(): Promise<Uint8Array> } }): Promise<Buffer> {
  return Buffer.from(await output.Body!.transformToByteArray());
}

const md5Hex = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** As @aws-sdk/s3-request-presigner does it: the SDK's signer over an UNSIGNED-PAYLOAD request. */
async function presign(
  stack: S3Stack,
  credentials: Credentials,
  method: string,
  bucket: string,
  key: string,
  signedAt = new Date(),
  expiresIn = PRESIGN_EXPIRES_SECONDS,
  query: Record<string, string> = {},
): Promise<string> {
  const url = new URL(stack.endpoint);
  const signer = new SignatureV4({ credentials, region: E2E_REGION, service: 's3', sha256: Sha256, uriEscapePath: false });
  const signed = await signer.presign(
    new HttpRequest({ method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, query, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    { expiresIn, signingDate: signedAt },
  );
  const search = Object.entries(signed.query ?? {})
    .map(([name, value]) => (value === null ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`))
    .join('&');
  return `${stack.endpoint}${signed.path}?${search}`;
}

describe('the S3 gateway against a real region (metadata, three storage nodes, access)', () => {
  let stack: S3Stack;
  let s3: S3Client;
  const bucket = `e2e-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    stack = await startS3Stack();
    s3 = stack.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await stack?.stop();
  }, 60_000);

  describe('buckets', () => {
    it('creates, heads, lists, locates and deletes a bucket; a second create is answered 200 as us-east-1 answers its owner', async () => {
      const name = `b-${randomBytes(4).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      await s3.send(new HeadBucketCommand({ Bucket: name }));
      const listed = await s3.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((b) => b.Name)).toEqual(expect.arrayContaining([bucket, name]));
      expect((await s3.send(new GetBucketLocationCommand({ Bucket: name }))).LocationConstraint).toBeUndefined();
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status).toBeUndefined();
      expect((await s3.send(new CreateBucketCommand({ Bucket: name }))).$metadata.httpStatusCode).toBe(200);
      await s3.send(new DeleteBucketCommand({ Bucket: name }));
      expect(await s3Failure(s3.send(new HeadBucketCommand({ Bucket: name })))).toMatchObject({ status: 404 });
      expect(await s3Failure(s3.send(new DeleteBucketCommand({ Bucket: name })))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    });

    it('puts, gets and deletes bucket tags; answers NoSuchTagSet when there are none', async () => {
      const name = `t-${randomBytes(4).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      expect(await s3Failure(s3.send(new GetBucketTaggingCommand({ Bucket: name })))).toMatchObject({ code: 'NoSuchTagSet', status: 404 });
      const TagSet = [
        { Key: 'team', Value: 'media' },
        { Key: 'cost centre', Value: '42 & more' },
      ];
      await s3.send(new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet } }));
      expect((await s3.send(new GetBucketTaggingCommand({ Bucket: name }))).TagSet).toEqual(TagSet);
      await s3.send(new DeleteBucketTaggingCommand({ Bucket: name }));
      expect(await s3Failure(s3.send(new GetBucketTaggingCommand({ Bucket: name })))).toMatchObject({ code: 'NoSuchTagSet' });
      const tooMany = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: '' }));
      expect(await s3Failure(s3.send(new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet: tooMany } })))).toMatchObject({ code: 'InvalidTag', status: 400 });
      await s3.send(new DeleteBucketCommand({ Bucket: name }));
    });

    it("answers ACL requests with the owner's full control, takes a private ACL and refuses a public one (ACLs disabled)", async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-probe', Body: 'x' }));
      for (const acl of [await s3.send(new GetBucketAclCommand({ Bucket: bucket })), await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'acl-probe' }))]) {
        expect(acl.Owner?.ID).toBe(canonicalIdOf('root'));
        expect(acl.Grants).toEqual([{ Grantee: { Type: 'CanonicalUser', ID: canonicalIdOf('root'), DisplayName: 'root' }, Permission: 'FULL_CONTROL' }]);
      }
      await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
      await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl-probe', ACL: 'private' }));
      expect(await s3Failure(s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })))).toMatchObject({ code: 'AccessControlListNotSupported', status: 400 });
      expect(await s3Failure(s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'no-such-key' })))).toMatchObject({ code: 'NoSuchKey' });
    });

    it('refuses to delete a bucket that holds objects', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keeps-the-bucket', Body: 'x' }));
      expect(await s3Failure(s3.send(new DeleteBucketCommand({ Bucket: bucket })))).toMatchObject({ code: 'BucketNotEmpty', status: 409 });
    });
  });

  describe('objects', () => {
    it('puts, gets, heads and deletes an object with its type and user metadata, and answers with S3 headers', async () => {
      const body = randomBytes(3 * E2E_CHUNK_SIZE_BYTES + 123);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/hello world+ü.bin', Body: body, ContentType: 'application/x-test', Metadata: { colour: 'blue' } }));
      expect(put.ETag).toBe(`"${md5Hex(body)}"`);
      expect(put.$metadata.requestId).toMatch(/\S/);

      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world+ü.bin' }));
      expect((await bodyOf(got)).equals(body)).toBe(true);
      expect(got.ContentType).toBe('application/x-test');
      expect(got.Metadata).toEqual({ colour: 'blue' });
      expect(got.ContentLength).toBe(body.length);

      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/hello world+ü.bin' }));
      expect(head.ETag).toBe(put.ETag);
      expect(head.ContentLength).toBe(body.length);
      expect(head.LastModified).toBeInstanceOf(Date);

      const overridden = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world+ü.bin', ResponseContentType: 'text/plain', ResponseContentDisposition: 'attachment' }));
      expect(overridden.ContentType).toBe('text/plain');
      expect(overridden.ContentDisposition).toBe('attachment');
      await bodyOf(overridden);

      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'dir/hello world+ü.bin' }));
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world+ü.bin' })))).toMatchObject({ code: 'NoSuchKey', status: 404 });
      // Deleting what is not there succeeds, as in S3.
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'dir/hello world+ü.bin' }));
    });

    it('stores an empty object', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' }));
      expect((await bodyOf(got)).length).toBe(0);
      expect(got.ETag).toBe(`"${md5Hex(Buffer.alloc(0))}"`);
    });

    it('serves ranges within a chunk, across chunks, and suffixes; refuses unsatisfiable ones with 416', async () => {
      const body = randomBytes(2 * E2E_CHUNK_SIZE_BYTES + 500);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged', Body: body }));
      const cases: Array<[string, number, number]> = [
        ['bytes=0-9', 0, 10],
        [`bytes=${E2E_CHUNK_SIZE_BYTES - 5}-${E2E_CHUNK_SIZE_BYTES + 4}`, E2E_CHUNK_SIZE_BYTES - 5, E2E_CHUNK_SIZE_BYTES + 5],
        ['bytes=-100', body.length - 100, body.length],
        [`bytes=${body.length - 10}-`, body.length - 10, body.length],
      ];
      for (const [range, start, end] of cases) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: range }));
        expect(got.ContentRange).toBe(`bytes ${start}-${end - 1}/${body.length}`);
        expect((await bodyOf(got)).equals(body.subarray(start, end))).toBe(true);
      }
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: `bytes=${body.length}-` })))).toMatchObject({ code: 'InvalidRange', status: 416 });
    });

    it('lists with v1 and v2, prefixes and delimiters, and pages', async () => {
      const keys = ['list/a/1', 'list/a/2', 'list/b/1', 'list/c'];
      for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', Delimiter: '/' }));
      expect(v2.Contents?.map((c) => c.Key)).toEqual(['list/c']);
      expect(v2.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['list/a/', 'list/b/']);
      expect(v2.KeyCount).toBe(3);

      const page1 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 2 }));
      expect(page1.IsTruncated).toBe(true);
      const page2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: page1.NextContinuationToken }));
      expect([...(page1.Contents ?? []), ...(page2.Contents ?? [])].map((c) => c.Key)).toEqual(keys);

      const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'list/a/' }));
      expect(v1.Contents?.map((c) => [c.Key, c.Size])).toEqual([
        ['list/a/1', 8],
        ['list/a/2', 8],
      ]);
      const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
      expect(deleted.Deleted?.map((d) => d.Key).sort()).toEqual(keys);
      expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }))).KeyCount).toBe(0);
    });

    it('copies with the COPY and REPLACE directives, honouring copy-source conditions', async () => {
      const body = randomBytes(E2E_CHUNK_SIZE_BYTES + 7);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/src', Body: body, ContentType: 'text/x-src', Metadata: { a: '1' } }));
      const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/same', CopySource: `${bucket}/copy/src` }));
      expect(copied.CopyObjectResult?.ETag).toBe(put.ETag);
      const same = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/same' }));
      expect(same.ContentType).toBe('text/x-src');
      expect(same.Metadata).toEqual({ a: '1' });
      expect((await bodyOf(same)).equals(body)).toBe(true);

      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/replaced', CopySource: `${bucket}/copy/src`, MetadataDirective: 'REPLACE', ContentType: 'text/x-new', Metadata: { b: '2' } }));
      const replaced = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/replaced' }));
      expect(replaced.ContentType).toBe('text/x-new');
      expect(replaced.Metadata).toEqual({ b: '2' });

      expect(
        await s3Failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/never', CopySource: `${bucket}/copy/src`, CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' }))),
      ).toMatchObject({ code: 'PreconditionFailed', status: 412 });
      expect(await s3Failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/src', CopySource: `${bucket}/copy/src` })))).toMatchObject({ code: 'InvalidRequest' });
    });

    it('stores Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires and a website redirect, and returns them on GET and HEAD', async () => {
      const body = randomBytes(E2E_CHUNK_SIZE_BYTES + 11);
      const expires = new Date('2037-01-01T00:00:00Z');
      const given = {
        CacheControl: 'max-age=3600, public',
        ContentDisposition: 'attachment; filename="report.txt.gz"',
        ContentEncoding: 'gzip',
        ContentLanguage: 'de-CH',
        Expires: expires,
        WebsiteRedirectLocation: '/elsewhere.html',
      };
      // A streamed body goes aws-chunked with a CRC32 trailer: aws-chunked must not become the object's encoding.
      const put = new PutObjectCommand({ Bucket: bucket, Key: 'headers/all', Body: Readable.from([body]), ContentLength: body.length, ...given });
      let sentEncoding: string | undefined;
      put.middlewareStack.add(
        (next) => async (args) => {
          sentEncoding = (args.request as { headers: Record<string, string> }).headers['content-encoding'];
          return next(args);
        },
        { step: 'finalizeRequest' },
      );
      await s3.send(put);
      expect(sentEncoding?.split(',')).toEqual(expect.arrayContaining(['gzip', 'aws-chunked']));
      const expected = { ...given, ExpiresString: expires.toUTCString() };
      const { Expires: _expires, ...withoutDate } = expected;

      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers/all' }));
      expect(head).toMatchObject(withoutDate);
      expect(head.Expires?.getTime()).toBe(expires.getTime());
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'headers/all' }));
      expect(got).toMatchObject(withoutDate);
      expect((await bodyOf(got)).equals(body)).toBe(true);

      // response-* overrides still win over what is stored.
      const overridden = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'headers/all', ResponseCacheControl: 'no-store', ResponseContentLanguage: 'fr' }));
      expect(overridden).toMatchObject({ CacheControl: 'no-store', ContentLanguage: 'fr', ContentDisposition: given.ContentDisposition });
      await bodyOf(overridden);

      // Without any, none come back.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'headers/none', Body: 'plain' }));
      const plain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers/none' }));
      expect([plain.CacheControl, plain.ContentDisposition, plain.ContentEncoding, plain.ContentLanguage, plain.ExpiresString]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    });

    it("keeps the source's content headers on a COPY copy and takes the request's on a REPLACE copy", async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'headers/src', Body: 'source', CacheControl: 'max-age=1', ContentLanguage: 'en', ContentEncoding: 'identity' }));
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'headers/copied', CopySource: `${bucket}/headers/src`, CacheControl: 'ignored' }));
      expect(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers/copied' }))).toMatchObject({ CacheControl: 'max-age=1', ContentLanguage: 'en', ContentEncoding: 'identity' });

      await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'headers/replaced', CopySource: `${bucket}/headers/src`, MetadataDirective: 'REPLACE', CacheControl: 'no-cache', ContentDisposition: 'inline' }),
      );
      const replaced = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers/replaced' }));
      expect(replaced).toMatchObject({ CacheControl: 'no-cache', ContentDisposition: 'inline' });
      expect([replaced.ContentLanguage, replaced.ContentEncoding]).toEqual([undefined, undefined]);
    });

    it('puts, reads and deletes object tags', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 't', Tagging: 'team=storage' }));
      expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet).toEqual([{ Key: 'team', Value: 'storage' }]);
      await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }));
      expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet).toEqual([{ Key: 'a', Value: 'b' }]);
      await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
      expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet).toEqual([]);
    });
  });

  describe('integrity', () => {
    it("checks the SDK's default CRC32 trailer and returns the checksum when asked", async () => {
      const body = randomBytes(2 * E2E_CHUNK_SIZE_BYTES + 1);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'crc', Body: body }));
      const expected = Buffer.alloc(4);
      expected.writeUInt32BE(crc32(body));
      expect(put.ChecksumCRC32).toBe(expected.toString('base64'));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'crc', ChecksumMode: 'ENABLED' }));
      expect(got.ChecksumCRC32).toBe(expected.toString('base64'));
      expect((await bodyOf(got)).equals(body)).toBe(true);
    });

    it('refuses a wrong Content-MD5 or checksum with BadDigest and stores nothing', async () => {
      const wrongMd5 = createHash('md5').update('something else').digest('base64');
      expect(await s3Failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-md5', Body: 'payload', ContentMD5: wrongMd5 })))).toMatchObject({ code: 'BadDigest', status: 400 });
      expect(await s3Failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-md5', Body: 'payload', ChecksumSHA256: createHash('sha256').update('x').digest('base64') })))).toMatchObject({
        code: 'BadDigest',
      });
      expect(await s3Failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-md5' })))).toMatchObject({ status: 404 });
    });

    it('leaves no object when the client disconnects mid-upload', async () => {
      const url = await presign(stack, stack.root, 'PUT', bucket, 'uploads/cut-short');
      await new Promise<void>((resolve) => {
        const req = httpRequest(url, { method: 'PUT', headers: { 'content-length': String(4 * MiB) } });
        req.on('error', () => resolve());
        req.write(randomBytes(MiB), () => setTimeout(() => {
          req.destroy();
          resolve();
        }, 200));
      });
      // The gateway may still be finishing the chunk it had; nothing may ever become visible.
      await new Promise((r) => setTimeout(r, 500));
      expect(await s3Failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'uploads/cut-short' })))).toMatchObject({ status: 404 });
      // The same URL with the whole body goes through: the cut, not the signature, stopped the first.
      const whole = randomBytes(4 * MiB);
      expect((await fetch(url, { method: 'PUT', body: whole })).status).toBe(200);
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'uploads/cut-short' }))).ETag).toBe(`"${md5Hex(whole)}"`);
    });
  });

  describe('multipart uploads', () => {
    it.each(['CRC32', 'CRC64NVME'] as const)('gives an upload created for a FULL_OBJECT %s the checksum of the whole object, checks a claimed one, and the SDK verifies it on GET', async (algorithm) => {
      const key = `mp/full-${algorithm}`;
      const bodies = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(777)];
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: algorithm, ChecksumType: 'FULL_OBJECT' }));
      expect(created.ChecksumType).toBe('FULL_OBJECT');
      const { UploadId } = created;
      const field = `Checksum${algorithm}` as const;
      const uploaded = [];
      for (const [i, Body] of bodies.entries()) {
        const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: algorithm }));
        uploaded.push({ PartNumber: i + 1, ETag: part.ETag, [field]: part[field] });
      }
      const wrongClaim = algorithm === 'CRC32' ? crc32Base64(Buffer.from('not the object')) : 'AAAAAAAAAAA=';
      expect(
        await s3Failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: uploaded }, [field]: wrongClaim, ChecksumType: 'FULL_OBJECT' }))),
      ).toMatchObject({ code: 'BadDigest', status: 400 });
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: uploaded } }));
      expect(done.ChecksumType).toBe('FULL_OBJECT');
      if (algorithm === 'CRC32') expect(done[field]).toBe(crc32Base64(Buffer.concat(bodies)));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect(head[field]).toBe(done[field]);
      expect(head.ChecksumType).toBe('FULL_OBJECT');
      // The SDK computes the body's checksum as it reads and fails the read if it differs from the header.
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect((await bodyOf(got)).equals(Buffer.concat(bodies))).toBe(true);
    });

    it("gives a multipart object S3's composite checksum of its parts' checksums, and refuses a part named with the wrong one", async () => {
      const key = 'mp/checksummed';
      const bodies = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32' }));
      const uploaded = [];
      for (const [i, Body] of bodies.entries()) {
        const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32' }));
        expect(part.ChecksumCRC32).toBe(crc32Base64(Body));
        uploaded.push({ PartNumber: i + 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 });
      }
      const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
      expect(listed.Parts?.map((p) => p.ChecksumCRC32)).toEqual(uploaded.map((p) => p.ChecksumCRC32));
      const wrong = uploaded.map((p, i) => (i === 1 ? { ...p, ChecksumCRC32: crc32Base64(Buffer.from('not it')) } : p));
      expect(await s3Failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: wrong } })))).toMatchObject({ code: 'InvalidPart', status: 400 });

      const composite = `${crc32Base64(Buffer.concat(uploaded.map((p) => Buffer.from(p.ChecksumCRC32!, 'base64'))))}-3`;
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: uploaded } }));
      expect(done.ChecksumCRC32).toBe(composite);
      expect(done.ChecksumType).toBe('COMPOSITE');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect(head.ChecksumCRC32).toBe(composite);
      expect(head.ChecksumType).toBe('COMPOSITE');
      // The SDK checks what it can of a GET asked for with checksums: a composite value is not a whole-body checksum, and the body is intact.
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect((await bodyOf(got)).equals(Buffer.concat(bodies))).toBe(true);
    });

    it('ends a multipart object with a small part kept inline, copied from a small object, and reads across the seam', async () => {
      const big = randomBytes(5 * MiB);
      const small = randomBytes(3000);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp/small-source', Body: small }));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/with-inline-tail' }));
      const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/with-inline-tail', UploadId, PartNumber: 1, Body: big }));
      const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp/with-inline-tail', UploadId, PartNumber: 2, CopySource: `${bucket}/mp/small-source` }));
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp/with-inline-tail',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }] },
        }),
      );
      const whole = Buffer.concat([big, small]);
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/with-inline-tail' })))).equals(whole)).toBe(true);
      const seam = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/with-inline-tail', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
      expect((await bodyOf(seam)).equals(whole.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
      const tail = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/with-inline-tail', PartNumber: 2 }));
      expect((await bodyOf(tail)).equals(small)).toBe(true);
    });

    it('uploads three parts (one copied), lists them, completes with the multipart ETag and reads back', async () => {
      const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(MiB + 3)];
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp/source', Body: parts[1] }));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/object', ContentType: 'video/x-test' }));
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(uploads.Uploads?.map((u) => u.UploadId)).toContain(UploadId);

      const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/object', UploadId, PartNumber: 1, Body: parts[0] }));
      const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp/object', UploadId, PartNumber: 2, CopySource: `${bucket}/mp/source` }));
      const p3 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/object', UploadId, PartNumber: 3, Body: parts[2] }));
      expect(p2.CopyPartResult?.ETag).toBe(`"${md5Hex(parts[1])}"`);

      const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp/object', UploadId }));
      expect(listed.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
        [1, parts[0].length],
        [2, parts[1].length],
        [3, parts[2].length],
      ]);

      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp/object',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }, { PartNumber: 3, ETag: p3.ETag }] },
        }),
      );
      const expectedEtag = createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex');
      expect(done.ETag).toBe(`"${expectedEtag}-3"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/object' }));
      expect(got.ContentType).toBe('video/x-test');
      expect((await bodyOf(got)).equals(Buffer.concat(parts))).toBe(true);
      const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/object', Range: `bytes=${5 * MiB - 2}-${5 * MiB + 1}` }));
      expect((await bodyOf(ranged)).equals(Buffer.concat(parts).subarray(5 * MiB - 2, 5 * MiB + 2))).toBe(true);
    });

    it("serves each part of a multipart object by part number, with the parts count and the whole object's ETag", async () => {
      const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 17), randomBytes(MiB + 3)];
      const whole = Buffer.concat(parts);
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/by-part', CacheControl: 'max-age=600', ContentDisposition: 'attachment', ContentEncoding: 'gzip' }),
      );
      const uploaded = [];
      for (const [i, Body] of parts.entries()) {
        const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/by-part', UploadId, PartNumber: i + 1, Body }));
        uploaded.push({ PartNumber: i + 1, ETag: part.ETag });
      }
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp/by-part', UploadId, MultipartUpload: { Parts: uploaded } }));

      let start = 0;
      for (const [i, part] of parts.entries()) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/by-part', PartNumber: i + 1 }));
        expect(got.$metadata.httpStatusCode).toBe(206);
        expect(got).toMatchObject({ PartsCount: 3, ETag: done.ETag, ContentLength: part.length, ContentRange: `bytes ${start}-${start + part.length - 1}/${whole.length}` });
        // The upload's content headers are the object's.
        expect(got).toMatchObject({ CacheControl: 'max-age=600', ContentDisposition: 'attachment', ContentEncoding: 'gzip' });
        expect((await bodyOf(got)).equals(part)).toBe(true);
        start += part.length;
      }
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp/by-part', PartNumber: 2 }));
      expect(head).toMatchObject({ PartsCount: 3, ContentLength: parts[1].length, ETag: done.ETag });

      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/by-part', PartNumber: 4 })))).toMatchObject({ code: 'InvalidPartNumber', status: 416 });
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/by-part', PartNumber: 1, Range: 'bytes=0-9' })))).toMatchObject({
        code: 'InvalidRequest',
        status: 400,
      });
    });

    it('serves a single-part object whole as its part 1, and no part 2', async () => {
      const body = randomBytes(E2E_CHUNK_SIZE_BYTES + 5);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp/single', Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/single', PartNumber: 1 }));
      expect(got.$metadata.httpStatusCode).toBe(200);
      expect(got).toMatchObject({ ETag: put.ETag, ContentLength: body.length });
      expect(got.PartsCount).toBeUndefined();
      expect((await bodyOf(got)).equals(body)).toBe(true);
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/single', PartNumber: 2 })))).toMatchObject({ code: 'InvalidPartNumber', status: 416 });
    });

    it('aborts an upload, after which it is gone', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/aborted' }));
      await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/aborted', UploadId, PartNumber: 1, Body: 'x' }));
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp/aborted', UploadId }));
      expect(await s3Failure(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp/aborted', UploadId })))).toMatchObject({ code: 'NoSuchUpload', status: 404 });
    });
  });

  describe('versioning', () => {
    it('keeps versions, hides a deleted key behind a delete marker, and brings it back when the marker is removed', async () => {
      const name = `v-${randomBytes(4).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status).toBe('Enabled');
      const v1 = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'one' }));
      const v2 = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'two' }));
      expect(v1.VersionId).toBeTruthy();
      expect(v2.VersionId).not.toBe(v1.VersionId);

      const marker = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
      expect(marker.DeleteMarker).toBe(true);
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: name, Key: 'k' })))).toMatchObject({ code: 'NoSuchKey', status: 404 });
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: name, Key: 'k', VersionId: v1.VersionId })))).toString()).toBe('one');

      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
      expect(versions.Versions?.map((v) => v.VersionId).sort()).toEqual([v1.VersionId, v2.VersionId].sort());
      expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[marker.VersionId, true]]);

      await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: marker.VersionId }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: name, Key: 'k' })))).toString()).toBe('two');
    });

    it("empties a bucket page by page as boto3's object_versions.delete() does: each page is deleted before the next is asked for with its markers, which name versions gone by then", async () => {
      const name = `v-${randomBytes(4).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      await s3.send(new PutObjectCommand({ Bucket: name, Key: 'a', Body: 'null version' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
      for (const [key, count] of [['a', 1], ['b', 3], ['c', 2]] as const) {
        for (let i = 0; i < count; i++) await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: `${key}${i}` }));
      }
      await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'b' }));
      const removed: string[] = [];
      let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (let page = 0; page < 10; page++) {
        const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: name, MaxKeys: 2, ...markers }));
        const entries = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key, VersionId: v.VersionId }));
        if (entries.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: entries } }));
        removed.push(...entries.map((e) => `${e.Key}`));
        if (!listed.IsTruncated) break;
        markers = { KeyMarker: listed.NextKeyMarker, VersionIdMarker: listed.NextVersionIdMarker };
      }
      expect(removed.sort()).toEqual(['a', 'a', 'b', 'b', 'b', 'b', 'c', 'c']);
      expect((await s3.send(new ListObjectVersionsCommand({ Bucket: name }))).Versions).toBeUndefined();
      await s3.send(new DeleteBucketCommand({ Bucket: name }));
    });
  });

  describe('conditional requests', () => {
    it('answers GET preconditions with 304 and 412', async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'conditional' }));
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: put.ETag })))).toMatchObject({ status: 304 });
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"ffffffffffffffffffffffffffffffff"' })))).toMatchObject({ code: 'PreconditionFailed', status: 412 });
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: put.ETag })))).toString()).toBe('conditional');
    });

    it('writes with If-None-Match: * only when absent and with If-Match only over that version', async () => {
      const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-write', Body: 'a', IfNoneMatch: '*' }));
      expect(await s3Failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-write', Body: 'b', IfNoneMatch: '*' })))).toMatchObject({ code: 'PreconditionFailed', status: 412 });
      expect(await s3Failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-write', Body: 'c', IfMatch: '"00000000000000000000000000000000"' })))).toMatchObject({ status: 412 });
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-write', Body: 'd', IfMatch: first.ETag }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond-write' })))).toString()).toBe('d');
    });

    it(`lets exactly one of ${RACERS} racing creates of one key win`, async () => {
      const outcomes = await Promise.all(
        Array.from({ length: RACERS }, (_, i) =>
          s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'race', Body: `racer ${i}`, IfNoneMatch: '*' })).then(
            () => ({ status: 200, body: `racer ${i}` }),
            (error: S3ServiceException) => ({ status: error.$metadata.httpStatusCode, body: error.name }),
          ),
        ),
      );
      const winners = outcomes.filter((o) => o.status === 200);
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 412)).toHaveLength(RACERS - 1);
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'race' })))).toString()).toBe(winners[0].body);
    }, 60_000);

    it('completes a multipart upload with If-None-Match: * only when the key is absent; the refused upload stays open', async () => {
      const key = 'cond-mp';
      const start = async () => {
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: `body of ${String(UploadId)}` }));
        return { UploadId, parts: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } };
      };
      const first = await start();
      const second = await start();
      const created = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: first.UploadId, MultipartUpload: first.parts, IfNoneMatch: '*' }));
      expect(
        await s3Failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: second.UploadId, MultipartUpload: second.parts, IfNoneMatch: '*' }))),
      ).toMatchObject({ code: 'PreconditionFailed', status: 412 });
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))).toString()).toBe(`body of ${String(first.UploadId)}`);
      // The refused upload is still in progress: its parts list, and it completes once the condition holds.
      expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: second.UploadId }))).Parts?.map((p) => p.PartNumber)).toEqual([1]);
      expect(
        await s3Failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: second.UploadId, MultipartUpload: second.parts, IfMatch: '"00000000000000000000000000000000-1"' }))),
      ).toMatchObject({ code: 'PreconditionFailed', status: 412 });
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: second.UploadId, MultipartUpload: second.parts, IfMatch: created.ETag }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))).toString()).toBe(`body of ${String(second.UploadId)}`);
    });

    it('deletes with If-Match (DeleteObject) or an ETag (DeleteObjects) only while the current version has that ETag, as S3 does: else 412 and the object stays', async () => {
      const stale = '"00000000000000000000000000000000"';
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-delete', Body: 'kept' }));
      expect(await s3Failure(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'cond-delete', IfMatch: stale })))).toMatchObject({ code: 'PreconditionFailed', status: 412 });
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond-delete' })))).toString()).toBe('kept');
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'cond-delete', IfMatch: put.ETag }));
      expect(await s3Failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-delete' })))).toMatchObject({ status: 404 });
      // A conditional delete of an absent key is NoSuchKey, not the unconditional delete's 204; '*' matches any ETag.
      expect(await s3Failure(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'cond-delete', IfMatch: '*' })))).toMatchObject({ code: 'NoSuchKey', status: 404 });
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-delete', Body: 'again' }));
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'cond-delete', IfMatch: '*' }));

      const kept = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-delete/kept', Body: 'k' }));
      const gone = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-delete/gone', Body: 'g' }));
      const batch = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'cond-delete/kept', ETag: stale }, { Key: 'cond-delete/gone', ETag: gone.ETag }] } }),
      );
      expect(batch.Deleted?.map((d) => d.Key)).toEqual(['cond-delete/gone']);
      expect(batch.Errors?.map((e) => [e.Key, e.Code])).toEqual([['cond-delete/kept', 'PreconditionFailed']]);
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-delete/kept' }))).ETag).toBe(kept.ETag);
    });
  });

  describe('bad input', () => {
    /** Sends only the headers of a presigned PUT and returns the answer the gateway gives at once. */
    async function headersOnlyPut(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(url, { method: 'PUT', headers });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (d) => (body += String(d)));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body });
          });
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    }

    it('refuses a single PUT over 5 GiB with EntityTooLarge (a plain chunked body of unknown length is taken: acl.e2e.spec.ts)', async () => {
      const tooLarge = await headersOnlyPut(await presign(stack, stack.root, 'PUT', bucket, 'huge'), { 'content-length': String(5 * 1024 ** 3 + 1) });
      expect(tooLarge.status).toBe(400);
      expect(tooLarge.body).toContain('<Code>EntityTooLarge</Code>');
    });

    it('refuses keys over 1024 bytes, bad bucket names and malformed XML', async () => {
      expect(await s3Failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })))).toMatchObject({ code: 'KeyTooLongError', status: 400 });
      const badName = await fetch(await presign(stack, stack.root, 'GET', 'Bad_Bucket', 'key'));
      expect(badName.status).toBe(400);
      expect(await badName.text()).toContain('<Code>InvalidBucketName</Code>');
      const malformed = await fetch(await presign(stack, stack.root, 'POST', bucket, '', new Date(), 60, { delete: '' }), {
        method: 'POST',
        body: '<Delete><Object><Key>unterminated',
      });
      expect(malformed.status).toBe(400);
      expect(await malformed.text()).toContain('<Code>MalformedXML</Code>');
    });
  });

  describe('presigned URLs', () => {
    it('serves a presigned GET and takes a presigned PUT; refuses an expired one', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presigned/get', Body: 'signed for you' }));
      const getUrl = await presign(stack, stack.root, 'GET', bucket, 'presigned/get');
      const got = await fetch(getUrl);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe('signed for you');

      const putUrl = await presign(stack, stack.root, 'PUT', bucket, 'presigned/put');
      const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded by url' });
      expect(put.status).toBe(200);
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'presigned/put' })))).toString()).toBe('uploaded by url');

      const expired = await fetch(await presign(stack, stack.root, 'GET', bucket, 'presigned/get', new Date(Date.now() - 120_000), 60));
      expect(expired.status).toBe(403);
      const text = await expired.text();
      expect(text).toContain('<Code>AccessDenied</Code>');
      expect(text).toContain('Request has expired');
      expect(text).toContain(`<RequestId>${expired.headers.get('x-amz-request-id')}</RequestId>`);
    });

    it('refuses a Signature Version 2 URL (what `aws s3 presign` of the aws CLI v1 and `s3cmd signurl` make) with InvalidRequest asking for SigV4, as S3 does, not as an anonymous AccessDenied', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presigned/v2', Body: 'kept' }));
      const expires = Math.floor(Date.now() / 1000) + 300;
      const sigV2Url = (method: string, key: string): string => {
        const signature = createHmac('sha1', stack.root.secretAccessKey).update(`${method}\n\n\n${expires}\n/${bucket}/${key}`).digest('base64');
        return `${stack.endpoint}/${bucket}/${key}?AWSAccessKeyId=${stack.root.accessKeyId}&Signature=${encodeURIComponent(signature)}&Expires=${expires}`;
      };
      for (const [method, body] of [['GET', undefined], ['PUT', 'by a v2 url']] as const) {
        const answer = await fetch(sigV2Url(method, 'presigned/v2'), { method, body });
        expect({ method, status: answer.status }).toEqual({ method, status: 400 });
        const text = await answer.text();
        expect(text).toContain('<Code>InvalidRequest</Code>');
        expect(text).toContain('Please use AWS4-HMAC-SHA256.');
      }
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'presigned/v2' })))).toString()).toBe('kept');
    });
  });

  describe('authentication and authorization', () => {
    it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
      const client = stack.client({ accessKeyId: stack.root.accessKeyId, secretAccessKey: 'not-the-secret-key-000000000000000000000' });
      expect(await s3Failure(client.send(new ListBucketsCommand({})))).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403, requestId: expect.any(String) });
    });

    it('refuses an unknown key with InvalidAccessKeyId', async () => {
      const client = stack.client({ accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'whatever-secret-0000000000000000000000000' });
      expect(await s3Failure(client.send(new ListBucketsCommand({})))).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    });

    it('refuses a request signed 20 minutes off with RequestTimeTooSkewed', async () => {
      const client = stack.client(stack.root, { systemClockOffset: -20 * 60_000, maxAttempts: 1 });
      expect(await s3Failure(client.send(new ListBucketsCommand({})))).toMatchObject({ code: 'RequestTimeTooSkewed', status: 403 });
    });

    it('refuses a malformed Authorization header with AuthorizationHeaderMalformed, and anonymous requests with AccessDenied', async () => {
      const malformed = await fetch(`${stack.endpoint}/${bucket}`, {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${stack.root.accessKeyId}/20260101/${E2E_REGION}/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
          'x-amz-date': '20260101T000000Z',
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      });
      expect(malformed.status).toBe(400);
      expect(await malformed.text()).toContain('<Code>AuthorizationHeaderMalformed</Code>');

      const anonymous = await fetch(`${stack.endpoint}/${bucket}/cond`);
      expect(anonymous.status).toBe(403);
      expect(anonymous.headers.get('x-amz-request-id')).toBeTruthy();
      expect(anonymous.headers.get('x-amz-id-2')).toBeTruthy();
      expect(anonymous.headers.get('server')).toBe('Cairn');
      expect(Date.parse(anonymous.headers.get('date') ?? '')).not.toBeNaN();
      expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');

      // Liveness stays anonymous; metrics take an operator token.
      expect((await fetch(`${stack.endpoint}/health/live`)).status).toBe(200);
      expect((await fetch(`${stack.endpoint}/metrics`, { headers: { authorization: `Bearer ${testOperatorToken('read-only')}` } })).status).toBe(200);
    });

    it("keeps a user's key to its owner's buckets; root reaches all", async () => {
      const alice = stack.client(await stack.createAccessKey('alice'));
      const aliceBucket = `alice-${randomBytes(4).toString('hex')}`;
      await eventually(() => alice.send(new CreateBucketCommand({ Bucket: aliceBucket })).then(() => true, () => false), 10_000, 200);
      await alice.send(new PutObjectCommand({ Bucket: aliceBucket, Key: 'mine', Body: 'alice' }));
      expect((await alice.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([aliceBucket]);
      expect(await s3Failure(alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' })))).toMatchObject({ code: 'AccessDenied', status: 403 });
      expect(await s3Failure(alice.send(new CopyObjectCommand({ Bucket: aliceBucket, Key: 'stolen', CopySource: `${bucket}/cond` })))).toMatchObject({ code: 'AccessDenied' });
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: aliceBucket, Key: 'mine' })))).toString()).toBe('alice');
      alice.destroy();
    });
  });
  describe('two gateways', () => {
    it('hear within moments of bucket and access-key changes made through the other (their caches are not waiting to expire)', async () => {
      const other = await stack.startGateway();
      const s3b = other.client();
      const name = `g-${randomBytes(4).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      expect((await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'one' }))).VersionId).toBeUndefined();

      await s3b.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
      await eventually(async () => (await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'two' }))).VersionId !== undefined);

      const carol = await stack.createAccessKey('carol');
      const carolS3 = stack.client(carol);
      await carolS3.send(new ListBucketsCommand({}));
      await stack.revokeAccessKey(carol.accessKeyId);
      await eventually(async () => (await s3Failure(carolS3.send(new ListBucketsCommand({})))).code === 'InvalidAccessKeyId');

      // A bucket deleted through one gateway and created again by another owner: the first gateway refuses its old owner.
      const dave = await stack.createAccessKey('dave');
      const erin = await stack.createAccessKey('erin');
      const shared = `s-${randomBytes(4).toString('hex')}`;
      await stack.client(dave).send(new CreateBucketCommand({ Bucket: shared }));
      await stack.client(dave).send(new HeadBucketCommand({ Bucket: shared }));
      await other.client(dave).send(new DeleteBucketCommand({ Bucket: shared }));
      await other.client(erin).send(new CreateBucketCommand({ Bucket: shared }));
      await eventually(async () => (await s3Failure(stack.client(dave).send(new HeadBucketCommand({ Bucket: shared })))).status === 403);
      for (const client of [s3b, carolS3]) client.destroy();
    });
  });

  // Last: these stop storage nodes for good.
  describe('a storage node down', () => {
    it('still takes writes at quorum, records the missed replica on CLUSTER for repair, and reads back', async () => {
      const victim = stack.processes.filter((p) => p.app === 'storage')[2]; // storage-3
      await victim.stop();
      const body = randomBytes(64 * 1024);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'degraded', Body: body }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'degraded' })))).equals(body)).toBe(true);

      const events = new JetStreamEventStore(stack.access.app.get(NatsConnectionManager), stack.namespace);
      const chunkHash = createHash('sha256').update(body).digest('hex');
      const history = await events.read(subjectsFor(stack.namespace).chunkHealth(chunkHash));
      expect(history.events.map((e) => [e.envelope.type, (e.envelope.data as { nodeId: string }).nodeId])).toEqual([['ChunkUnderReplicated', 'storage-3']]);
    });

    it('with every storage node down, still puts and reads small objects (they live inline in metadata) and refuses larger ones', async () => {
      await Promise.all(stack.processes.filter((p) => p.app === 'storage').map((p) => p.stop()));
      const small = randomBytes(DEFAULT_INLINE_OBJECT_MAX_BYTES);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inline', Body: small }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inline' })))).equals(small)).toBe(true);
      const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inline', Range: 'bytes=100-199' }));
      expect((await bodyOf(ranged)).equals(small.subarray(100, 200))).toBe(true);
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'inline-copy', CopySource: `${bucket}/inline` }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inline-copy' })))).equals(small)).toBe(true);

      const larger = await s3Failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'not-inline', Body: randomBytes(DEFAULT_INLINE_OBJECT_MAX_BYTES + 1) })));
      expect(larger.status).toBe(503);
      expect(await s3Failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'not-inline' })))).toMatchObject({ status: 404 });
    });
  });
});
