import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import { KeyService } from '@cairn/service-kit';
import { eventually, rawStreamsText } from '@cairn/testing';
import { Client } from 'pg';
import { E2E_ROOT_SECRET_KEY, presignUrl, startS3Stack, type Credentials, type S3Stack } from './testing/s3-stack.e2e-helper';

const DATABASE_URL = process.env['CAIRN_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Access-key secrets at rest, end to end: a region whose metadata and gateway share a keyring
 * (CAIRN_MASTER_KEY_FILE). Keys are made through metadata's RPC as `cairn keys create` makes them;
 * the raw JetStream messages and the access_keys table never hold a secret in plaintext, and
 * SigV4 (header-signed and presigned, through the AWS SDK) works with those keys — after a master
 * key rotation too.
 */
describe('access-key secrets sealed at rest (e2e)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-secrets-e2e-'));
  const keyring = path.join(dir, 'keyring.json');
  let stack: S3Stack;
  let db: Client;

  beforeAll(async () => {
    stack = await startS3Stack({ env: { CAIRN_MASTER_KEY_FILE: keyring, CAIRN_MASTER_KEY_CREATE: 'true' } });
    db = new Client({ connectionString: DATABASE_URL });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every message of the region's META and CLUSTER streams, as raw bytes. */
  async function rawStreamText(): Promise<string> {
    const subjects = subjectsFor(stack.namespace);
    const jsm = await stack.access.app.get(NatsConnectionManager).jetstreamManager();
    return rawStreamsText(jsm, [subjects.streamName('META'), subjects.streamName('CLUSTER')]);
  }

  async function rowOf(accessKeyId: string): Promise<Record<string, unknown>> {
    const schema = `cairn_${stack.namespace.toLowerCase()}`;
    return eventually(async () => {
      const result = await db.query(`SELECT * FROM "${schema}".access_keys WHERE access_key_id = $1`, [accessKeyId]);
      return result.rows[0] as Record<string, unknown> | undefined;
    }, 20_000);
  }

  async function roundTrip(credentials: Credentials, bucket: string): Promise<void> {
    const client = stack.client(credentials);
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: `signed by ${credentials.accessKeyId}` }));
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
      expect(await got.Body?.transformToString()).toBe(`signed by ${credentials.accessKeyId}`);
      const presigned = await fetch(await presignUrl(stack.endpoint, credentials, 'GET', `/${bucket}/hello.txt`));
      expect(presigned.status).toBe(200);
    } finally {
      client.destroy();
    }
  }

  it('keeps no plaintext secret in the stream or the table, and SigV4 works with the keys', async () => {
    const key = await stack.createAccessKey('sealed-e2e');
    await roundTrip(key, 'sealed-secrets-one');

    const raw = await rawStreamText();
    expect(raw).toContain(key.accessKeyId);
    expect(raw).not.toContain(key.secretAccessKey);
    expect(raw).not.toContain(E2E_ROOT_SECRET_KEY);

    const row = await rowOf(key.accessKeyId);
    expect(JSON.stringify(row)).not.toContain(key.secretAccessKey);
    expect(row).toMatchObject({ secret_access_key: null, secret_key_id: '1', sealed_secret: expect.any(String) });
    const root = await rowOf(stack.root.accessKeyId);
    expect(JSON.stringify(root)).not.toContain(E2E_ROOT_SECRET_KEY);
    expect(root).toMatchObject({ secret_access_key: null, secret_key_id: '1' });
  });

  it('seals new keys under the new master version after a rotation; keys sealed before keep working, and `rotate` reseals them', async () => {
    const before = await stack.createAccessKey('sealed-before');
    expect(KeyService.open(keyring, { create: false }).rotateMaster()).toBe('2');
    const after = await stack.createAccessKey('sealed-after');
    expect(await rowOf(after.accessKeyId)).toMatchObject({ secret_key_id: '2', secret_access_key: null });
    expect(await rowOf(before.accessKeyId)).toMatchObject({ secret_key_id: '1' });
    await roundTrip(after, 'sealed-secrets-after');
    await roundTrip(before, 'sealed-secrets-before');
    expect(await rawStreamText()).not.toContain(after.secretAccessKey);

    // The admin rotation (root-signed): version 3, and every access-key secret resealed under it.
    const rotated = await fetch(await presignUrl(stack.endpoint, stack.root, 'POST', '/_cairn/admin/keys/rotate'), { method: 'POST' });
    const report = (await rotated.json()) as { version: string; resealedAccessKeys: number };
    expect(report.version).toBe('3');
    expect(report.resealedAccessKeys).toBeGreaterThanOrEqual(4); // root, sealed-e2e, sealed-before, sealed-after
    for (const accessKeyId of [before.accessKeyId, after.accessKeyId, stack.root.accessKeyId]) {
      expect(await eventually(async () => ((await rowOf(accessKeyId))['secret_key_id'] === '3' ? true : undefined), 20_000)).toBe(true);
    }
    // A gateway that has cached nothing opens the resealed secrets (version 3) itself.
    const gateway = await stack.startGateway();
    const client = gateway.client(before);
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: 'sealed-secrets-before', Key: 'hello.txt' }));
      expect(await got.Body?.transformToString()).toBe(`signed by ${before.accessKeyId}`);
    } finally {
      client.destroy();
    }
    expect(await rawStreamText()).not.toContain(before.secretAccessKey);
  });
});
