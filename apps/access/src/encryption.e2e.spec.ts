import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { KeyService } from '@cairn/service-kit';
import { E2E_CHUNK_SIZE_BYTES, presignUrl, startS3Stack, type S3Stack, s3Error } from './testing/s3-stack.e2e-helper';


/** A body of `sizeBytes` with `marker` written every 4 KiB: easy to find in any file that holds it in the clear. */
function markedBody(marker: string, sizeBytes: number): Buffer {
  const body = randomBytes(sizeBytes);
  for (let at = 0; at + marker.length <= sizeBytes; at += 4096) body.write(marker, at, 'latin1');
  return body;
}

/** Every file under `dir` whose bytes contain `marker`. */
async function filesContaining(dir: string, marker: string): Promise<string[]> {
  const found: string[] = [];
  const needle = Buffer.from(marker, 'latin1');
  const walk = async (at: string): Promise<void> => {
    for (const entry of await fsp.readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && (await fsp.readFile(full)).includes(needle)) found.push(full);
    }
  };
  await walk(dir);
  return found;
}

async function bytesOf(body: unknown): Promise<Buffer> {
  return Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('base64');

/** Encryption at rest end to end (docs/encryption.md): the AWS SDK against a region of real processes and disks. */
describe('encryption at rest (e2e)', () => {
  let stack: S3Stack;
  let s3: S3Client;
  let keyDir: string;
  let keyFile: string;
  const bucket = 'sse-e2e';
  const customerKey = randomBytes(32);
  const customer = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: md5(customerKey) } as const;
  const otherKey = randomBytes(32);
  const wrongCustomer = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: otherKey.toString('base64'), SSECustomerKeyMD5: md5(otherKey) } as const;
  /** The key admin API, signed by the root key (a presigned POST). */
  const admin = async (adminPath: string, query: Record<string, string> = {}) => fetch(await presignUrl(stack.endpoint, stack.root, 'POST', adminPath, { query }), { method: 'POST' });
  // Two and a half chunks: ranges cross chunk boundaries.
  const sizeBytes = Math.floor(E2E_CHUNK_SIZE_BYTES * 2.5);

  beforeAll(async () => {
    keyDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-sse-keys-'));
    keyFile = path.join(keyDir, 'keyring.json');
    stack = await startS3Stack({ env: { CAIRN_MASTER_KEY_FILE: keyFile, CAIRN_MASTER_KEY_CREATE: 'true' } });
    s3 = stack.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await fsp.rm(keyDir, { recursive: true, force: true });
  });

  it('creates the keyring 0600 outside the event log', async () => {
    expect((await fsp.stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  describe('SSE-C', () => {
    const body = markedBody('CAIRN-SSE-C-MARKER', sizeBytes);

    beforeAll(async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-c.bin', Body: body, ...customer }));
      expect(put.SSECustomerAlgorithm).toBe('AES256');
      expect(put.SSECustomerKeyMD5).toBe(customer.SSECustomerKeyMD5);
    });

    it('is unreadable without its key: GET and HEAD answer 400, another key 403', async () => {
      expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c.bin' })))).toEqual({ name: 'InvalidRequest', status: 400 });
      expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sse-c.bin' })))).status).toBe(400);
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c.bin', ...wrongCustomer })))).status).toBe(403);
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c.bin', Range: 'bytes=0-9' })))).status).toBe(400);
    });

    it('is byte-identical with its key, whole and in ranges across chunks', async () => {
      const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c.bin', ...customer }));
      expect(whole.SSECustomerKeyMD5).toBe(customer.SSECustomerKeyMD5);
      expect((await bytesOf(whole.Body)).equals(body)).toBe(true);
      for (const [from, to] of [
        [0, 0],
        [17, 4113],
        [E2E_CHUNK_SIZE_BYTES - 5, E2E_CHUNK_SIZE_BYTES + 5],
        [sizeBytes - 100, sizeBytes - 1],
      ]) {
        const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c.bin', Range: `bytes=${from}-${to}`, ...customer }));
        expect((await bytesOf(part.Body)).equals(body.subarray(from, to + 1))).toBe(true);
      }
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sse-c.bin', ...customer }));
      expect(head.ContentLength).toBe(sizeBytes);
      expect(head.SSECustomerAlgorithm).toBe('AES256');
    });

    it('refuses SSE-C headers on an object that is not SSE-C (a wrong key MD5: object-keys.spec.ts, the SDK always sends the right one)', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.txt', Body: 'in the clear' }));
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain.txt', ...customer })))).status).toBe(400);
    });

    it('multipart: every part needs the key; the object reads back with it', async () => {
      const part1 = randomBytes(5 * 1024 * 1024);
      const part2 = randomBytes(300_000);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-sse-c.bin', ...customer }));
      expect((await s3Error(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-sse-c.bin', UploadId, PartNumber: 1, Body: part1 })))).status).toBe(400);
      const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-sse-c.bin', UploadId, PartNumber: 1, Body: part1, ...customer }));
      const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-sse-c.bin', UploadId, PartNumber: 2, Body: part2, ...customer }));
      await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp-sse-c.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
      );
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-sse-c.bin' })))).status).toBe(400);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-sse-c.bin', ...customer }));
      expect((await bytesOf(got.Body)).equals(Buffer.concat([part1, part2]))).toBe(true);
      const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-sse-c.bin', Range: `bytes=${part1.length - 3}-${part1.length + 3}`, ...customer }));
      expect((await bytesOf(range.Body)).equals(Buffer.concat([part1, part2]).subarray(part1.length - 3, part1.length + 4))).toBe(true);
    });
  });

  describe('SSE-S3', () => {
    const secret = markedBody('CAIRN-SSE-S3-MARKER', sizeBytes);
    const clear = markedBody('CAIRN-PLAINTEXT-MARKER', sizeBytes);

    beforeAll(async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-s3.bin', Body: secret, ServerSideEncryption: 'AES256' }));
      expect(put.ServerSideEncryption).toBe('AES256');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'clear.bin', Body: clear }));
    });

    it('leaves no plaintext in the chunk files on disk (a plain object beside it is found, so the scan sees chunks)', async () => {
      expect((await filesContaining(stack.dataRoot, 'CAIRN-PLAINTEXT-MARKER')).length).toBeGreaterThan(0);
      expect(await filesContaining(stack.dataRoot, 'CAIRN-SSE-S3-MARKER')).toEqual([]);
      expect(await filesContaining(stack.dataRoot, 'CAIRN-SSE-C-MARKER')).toEqual([]);
    });

    it('reads back byte-identical, with the header S3 sends', async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-s3.bin' }));
      expect(got.ServerSideEncryption).toBe('AES256');
      expect((await bytesOf(got.Body)).equals(secret)).toBe(true);
    });

    it('copies: SSE-C to SSE-S3 (re-wrapped), SSE-S3 to plain and plain to SSE-C (re-encrypted)', async () => {
      const copied = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'copy-of-sse-c',
          CopySource: `${bucket}/sse-c.bin`,
          CopySourceSSECustomerAlgorithm: 'AES256',
          CopySourceSSECustomerKey: customer.SSECustomerKey,
          CopySourceSSECustomerKeyMD5: customer.SSECustomerKeyMD5,
          ServerSideEncryption: 'AES256',
        }),
      );
      expect(copied.ServerSideEncryption).toBe('AES256');
      const fromSseC = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c.bin', ...customer }));
      const original = await bytesOf(fromSseC.Body);
      expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-of-sse-c' }))).Body)).equals(original)).toBe(true);
      // Without the source's key the copy is refused.
      expect((await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'nope', CopySource: `${bucket}/sse-c.bin` })))).status).toBe(400);

      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'plain-copy', CopySource: `${bucket}/sse-s3.bin` }));
      const plainCopy = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain-copy' }));
      expect(plainCopy.ServerSideEncryption).toBeUndefined();
      expect((await bytesOf(plainCopy.Body)).equals(secret)).toBe(true);

      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'sse-c-copy', CopySource: `${bucket}/clear.bin`, ...customer }));
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c-copy' })))).status).toBe(400);
      expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-c-copy', ...customer }))).Body)).equals(clear)).toBe(true);
    });

    it('multipart upload with SSE-S3', async () => {
      const part1 = randomBytes(5 * 1024 * 1024);
      const part2 = randomBytes(1000);
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-sse-s3.bin', ServerSideEncryption: 'AES256' }));
      expect(created.ServerSideEncryption).toBe('AES256');
      const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-sse-s3.bin', UploadId: created.UploadId, PartNumber: 1, Body: part1 }));
      const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-sse-s3.bin', UploadId: created.UploadId, PartNumber: 2, Body: part2 }));
      expect(p1.ServerSideEncryption).toBe('AES256');
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp-sse-s3.bin',
          UploadId: created.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-sse-s3.bin' }));
      expect(got.ServerSideEncryption).toBe('AES256');
      expect((await bytesOf(got.Body)).equals(Buffer.concat([part1, part2]))).toBe(true);
    });

    it('master key rotation re-wraps data keys without rewriting chunks; everything stays readable', async () => {
      const before = await filesContaining(stack.dataRoot, 'CAIRN-PLAINTEXT-MARKER');
      const response = await admin('/_cairn/admin/keys/rotate');
      expect(response.status).toBe(200);
      const report = (await response.json()) as { version: string; rewrapped: number; scanned: number };
      expect(report.version).toBe('2');
      expect(report.rewrapped).toBeGreaterThanOrEqual(3); // sse-s3.bin, copy-of-sse-c, mp-sse-s3.bin
      // A rerun finds nothing left to do.
      const again = (await (await admin('/_cairn/admin/keys/rewrap')).json()) as { rewrapped: number };
      expect(again.rewrapped).toBe(0);
      expect(await filesContaining(stack.dataRoot, 'CAIRN-PLAINTEXT-MARKER')).toEqual(before);
      expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-s3.bin' }))).Body)).equals(secret)).toBe(true);
      expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-sse-s3.bin' }))).Body)).length).toBe(5 * 1024 * 1024 + 1000);
      // The CLI lists the versions (signed with the root key from the environment, no profile).
      const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'encryption', 'keys', '--json'], {
        cwd: path.resolve(__dirname, '../../..'),
        env: { ...process.env, CAIRN_S3_URL: stack.endpoint, CAIRN_ACCESS_KEY_ID: stack.root.accessKeyId, CAIRN_SECRET_ACCESS_KEY: stack.root.secretAccessKey },
      });
      expect(JSON.parse(stdout)).toMatchObject({ currentMasterVersion: '2', masterVersions: ['1', '2'] });
      // Writes after the rotation use the new version.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-rotation', Body: 'new key', ServerSideEncryption: 'AES256' }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'after-rotation' }))).Body?.transformToString()).toBe('new key');
    });
  });

  describe('default bucket encryption and SSE-KMS', () => {
    const encrypted = 'sse-default-e2e';

    beforeAll(async () => {
      await s3.send(new CreateBucketCommand({ Bucket: encrypted }));
    });

    it('Put/Get/DeleteBucketEncryption; a write without headers gets the default', async () => {
      expect((await s3Error(s3.send(new GetBucketEncryptionCommand({ Bucket: encrypted })))).name).toBe('ServerSideEncryptionConfigurationNotFoundError');
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: encrypted,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        }),
      );
      const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: encrypted }));
      expect(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
      const put = await s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'defaulted', Body: 'by default' }));
      expect(put.ServerSideEncryption).toBe('AES256');
      expect((await s3.send(new HeadObjectCommand({ Bucket: encrypted, Key: 'defaulted' }))).ServerSideEncryption).toBe('AES256');
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: encrypted }));
      expect((await s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'undefaulted', Body: 'plain' }))).ServerSideEncryption).toBeUndefined();
    });

    it('SSE-KMS with a named key from the key service; an unknown key is refused as S3 does', async () => {
      const response = await admin('/_cairn/admin/keys/kms', { description: 'e2e' });
      expect(response.status).toBe(200);
      const { keyId } = (await response.json()) as { keyId: string };
      // The keyring file holds it: another process of the region (here, this one) sees it.
      expect(KeyService.open(keyFile, { create: false }).hasKmsKey(keyId)).toBe(true);
      const put = await s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'kms.txt', Body: 'under a named key', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
      expect(put.ServerSideEncryption).toBe('aws:kms');
      expect(put.SSEKMSKeyId).toBe(keyId);
      const got = await s3.send(new GetObjectCommand({ Bucket: encrypted, Key: 'kms.txt' }));
      expect(got.SSEKMSKeyId).toBe(keyId);
      expect(await got.Body?.transformToString()).toBe('under a named key');
      const unknown = await s3Error(
        s3.send(new PutObjectCommand({ Bucket: encrypted, Key: 'kms-unknown', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: '00000000-0000-4000-8000-000000000000' })),
      );
      expect(unknown).toEqual({ name: 'KMS.NotFoundException', status: 400 });
    });
  });
});
