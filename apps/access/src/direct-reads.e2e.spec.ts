import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { JetStreamEventStore, NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { CairnError, METADATA_SERVICE, MetadataRpc, subjectsFor, type ObjectVersionView } from '@cairn/protocol';
import { keyIdOf } from '@cairn/hashing';
import { JSONCodec, type Subscription } from 'nats';
import { DirectObjectReads } from './adapters/direct-object-reads';
import { startS3Stack, type S3Stack } from './testing/s3-stack.e2e-helper';

const MiB = 1024 * 1024;
const PART_BYTES = 5 * MiB;

type Answer = { readonly view: ObjectVersionView } | { readonly error: { code: string; message: string; details: unknown } };

async function answerOf(read: () => Promise<ObjectVersionView | undefined>): Promise<Answer> {
  try {
    const view = await read();
    if (view === undefined) throw new Error('not answered');
    // As the RPC's reply arrives: through JSON.
    return { view: JSON.parse(JSON.stringify(view)) as ObjectVersionView };
  } catch (error) {
    if (!(error instanceof CairnError)) throw error;
    return { error: { code: error.code, message: error.message, details: error.details ?? null } };
  }
}

/**
 * The gateway answers HEAD and GET from the bucket's and the key's subjects itself (DirectObjectReads):
 * the same answers as metadata's headObject RPC, without that RPC, and linearizable as it is.
 */
describe('HEAD and GET read by the gateway from the key subject', () => {
  let stack: S3Stack;
  let s3: S3Client;
  let rpc: RpcClient;
  let direct: DirectObjectReads;
  let heads: Subscription;
  let headRequests = 0;
  let flush: () => Promise<void>;

  beforeAll(async () => {
    stack = await startS3Stack();
    s3 = stack.client();
    rpc = stack.access.app.get(RpcClient);
    direct = new DirectObjectReads(stack.access.app.get(JetStreamEventStore), stack.namespace);
    const nc = await stack.access.app.get(NatsConnectionManager).connection();
    // Every headObject request to metadata, whoever sends it (a plain subscriber gets a copy of each).
    heads = nc.subscribe(subjectsFor(stack.namespace).rpc(METADATA_SERVICE, MetadataRpc.headObject), { callback: () => (headRequests += 1) });
    flush = () => nc.flush();
    await flush();
  }, 120_000);

  afterAll(async () => {
    heads?.unsubscribe();
    await stack?.stop();
  }, 60_000);

  async function headRequestsDuring(work: () => Promise<unknown>): Promise<number> {
    await flush();
    const before = headRequests;
    await work();
    await flush();
    return headRequests - before;
  }

  /** The direct answer and metadata's, for one read. */
  async function bothAnswers(bucket: string, key: string, versionId?: string): Promise<{ direct: Answer; rpc: Answer }> {
    const request = { bucket, key, ...(versionId === undefined ? {} : { versionId }) };
    return {
      direct: await answerOf(() => direct.head(bucket, key, versionId)),
      rpc: await answerOf(() => rpc.request<ObjectVersionView>(METADATA_SERVICE, MetadataRpc.headObject, request)),
    };
  }

  it('answers a plain GET and HEAD without the metadata RPC', async () => {
    const bucket = 'direct-plain';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: 'four' }));
    const asked = await headRequestsDuring(async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small' }));
      expect(await got.Body?.transformToString()).toBe('four');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'small' }));
      expect(head.ContentLength).toBe(4);
      await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'absent' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    });
    expect(asked).toBe(0);
    // The counting is real: metadata's RPC, asked directly, is seen.
    expect(await headRequestsDuring(() => rpc.request(METADATA_SERVICE, MetadataRpc.headObject, { bucket, key: 'small' }))).toBe(1);
  });

  it('answers as metadata does: versions, delete markers, inline and chunked bodies, parts, versionId reads and every refusal', async () => {
    const bucket = 'direct-same';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one', Metadata: { colour: 'blue' }, ContentType: 'text/plain' }));
    const chunked = randomBytes(2 * MiB + 17);
    const second = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: chunked, ChecksumAlgorithm: 'SHA256' }));
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', VersionId: first.VersionId, Tagging: { TagSet: [{ Key: 't', Value: 'v' }] } }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deleted', Body: 'was here' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'deleted' }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts' }));
    const parts = [];
    for (const [i, size] of [PART_BYTES, 1000].entries()) {
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts', UploadId: upload.UploadId, PartNumber: i + 1, Body: randomBytes(size) }));
      parts.push({ PartNumber: i + 1, ETag: part.ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'parts', UploadId: upload.UploadId, MultipartUpload: { Parts: parts } }));

    const reads: [string, string, string?][] = [
      [bucket, 'k'],
      [bucket, 'k', first.VersionId],
      [bucket, 'k', second.VersionId],
      [bucket, 'k', 'no-such-version'],
      [bucket, 'gone'],
      [bucket, 'gone', marker.VersionId],
      [bucket, 'deleted'],
      [bucket, 'deleted', deleted.VersionId],
      [bucket, 'parts'],
      [bucket, 'absent'],
      ['direct-no-such-bucket', 'k'],
      ['Not_A_Bucket', 'k'],
      [bucket, 'x'.repeat(1025)],
    ];
    const codes: string[] = [];
    for (const [b, k, v] of reads) {
      const answers = await bothAnswers(b, k, v);
      expect(answers.direct).toEqual(answers.rpc);
      codes.push('view' in answers.direct ? (answers.direct.view.isLatest ? 'latest' : 'noncurrent') : answers.direct.error.code);
    }
    expect(codes).toEqual(['latest', 'noncurrent', 'latest', 'NoSuchVersion', 'NoSuchKey', 'MethodNotAllowed', 'NoSuchKey', 'MethodNotAllowed', 'latest', 'NoSuchKey', 'NoSuchBucket', 'InvalidBucketName', 'KeyTooLongError']);
    const current = await bothAnswers(bucket, 'k');
    expect('view' in current.direct && current.direct.view.chunks.length).toBe(3);
    const older = await bothAnswers(bucket, 'k', first.VersionId);
    expect('view' in older.direct && older.direct.view).toMatchObject({ tags: [{ key: 't', value: 'v' }], userMetadata: { colour: 'blue' } });
    expect('view' in older.direct && older.direct.view.chunks[0].inline).toBeDefined();

    // And over HTTP, with no RPC: the chunked version's bytes, the inline one by id, the delete marker's headers.
    const asked = await headRequestsDuring(async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
      expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(chunked)).toBe(true);
      const old = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: first.VersionId }));
      expect(await old.Body?.transformToString()).toBe('one');
      expect(old.Metadata).toEqual({ colour: 'blue' });
      const part = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'parts', PartNumber: 2 }));
      expect(part).toMatchObject({ ContentLength: 1000, PartsCount: 2 });
      await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
      await expect(s3.send(new GetObjectCommand({ Bucket: 'direct-no-such-bucket', Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    });
    expect(asked).toBe(0);
  }, 60_000);

  it('answers as metadata does for events stored at an older schema version, before bucket lives were recorded', async () => {
    const bucket = 'direct-heirloom';
    const subjects = subjectsFor(stack.namespace);
    const at = '2026-11-01T00:00:00.000Z';
    const js = await stack.access.app.get(NatsConnectionManager).jetstream();
    // As older code appended them: version 1, no upcasting or stamping in between.
    const publishRaw = async (subject: string, type: string, data: unknown) => {
      const envelope = { id: randomUUID(), type, schemaVersion: 1, aggregateId: subject, region: 'eu-one', hlc: '0000000001-0000-eu-one', causationId: null, correlationId: null, occurredAt: at, data };
      await js.publish(subject, JSONCodec().encode(envelope), { msgID: envelope.id });
    };
    await publishRaw(subjects.bucket(bucket), 'BucketCreated', {
      bucket,
      owner: 'alice',
      region: 'eu-one',
      createdAt: at,
      versioning: 'Unversioned',
      replication: { mode: 'local' },
      defaultStorageClass: 'STANDARD',
    });
    const key = 'old.txt';
    await publishRaw(subjects.object(bucket, keyIdOf(key)), 'ObjectVersionPut', {
      bucket,
      key,
      keyId: keyIdOf(key),
      versionId: 'null',
      sizeBytes: 3,
      etag: createHash('md5').update('old').digest('hex'),
      checksums: {},
      contentType: 'text/plain',
      userMetadata: { era: 'v1' },
      chunks: [{ hash: createHash('sha256').update('old').digest('hex'), offsetBytes: 0, sizeBytes: 3 }],
      storageClass: 'STANDARD',
      tags: [],
      hlc: '0000000001-0000-eu-one',
      lastModified: at,
    });
    const answers = await bothAnswers(bucket, key);
    expect(answers.direct).toEqual(answers.rpc);
    expect('view' in answers.direct && answers.direct.view).toMatchObject({ versionId: 'null', userMetadata: { era: 'v1' }, contentHeaders: {}, partSizes: null, uploadId: null });
  });

  it('sees an acknowledged write through another gateway at once, and never an old life of a bucket', async () => {
    const bucket = 'direct-lives';
    const other = (await stack.startGateway()).client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'first' }));
    const read = async (client: S3Client) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body?.transformToString();
    // Each gateway now holds the key's state.
    expect(await read(other)).toBe('first');
    expect(await read(s3)).toBe('first');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'second' }));
    expect(await read(other)).toBe('second');
    await other.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    await expect(read(s3)).rejects.toMatchObject({ name: 'NoSuchKey' });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'third' }));
    expect(await read(other)).toBe('third');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await expect(read(other)).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await other.send(new CreateBucketCommand({ Bucket: bucket }));
    await expect(read(s3)).rejects.toMatchObject({ name: 'NoSuchKey' });
    await other.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'new life' }));
    expect(await read(s3)).toBe('new life');
  }, 60_000);

  it('leaves reads of an active-passive bucket to metadata, which may hold them for replication', async () => {
    const bucket = 'direct-replicated';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'here' }));
    await rpc.request(METADATA_SERVICE, MetadataRpc.setBucketReplication, { bucket, replication: { mode: 'active-passive', homeRegion: 'us-east-1' } });
    expect(await direct.head(bucket, 'k')).toBeUndefined();
    const asked = await headRequestsDuring(async () => expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body?.transformToString()).toBe('here'));
    expect(asked).toBe(1);
  }, 60_000);
});
