import { METADATA_SERVICE, MetadataRpc, subjectsFor } from '@cairn/protocol';
import type {
  CompleteUploadReply,
  DeleteObjectReply,
  InitiateUploadReply,
  ListObjectsV2Reply,
  ListObjectVersionsReply,
  ListUploadsReply,
  ObjectVersionView,
  PutObjectReply,
  UploadPartReply,
} from '@cairn/protocol';
import { JetStreamEventStore, RpcClient } from '@cairn/messaging';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, testNamespace } from '@cairn/testing';
import type { MetadataConfig } from './metadata.config';
import { MetadataService } from './service';
import { keyIdOf } from '@cairn/hashing';
import { body, codeOf, md5, RPC_TIMEOUT_MS, sha256 } from './testing/rpc-test-helpers';


/**
 * A bucket name deleted and created again starts a new life: the key subjects are the same, but
 * nothing of the earlier life (its history, or a put that lost its race with the delete and landed
 * later) counts for the key's decisions or shows in the listings.
 */
describe('bucket lives: a deleted bucket name created again (real JetStream and Postgres)', () => {
  const ns = testNamespace();
  let service: RunningService<MetadataConfig>;
  let rpc: RpcClient;
  let store: JetStreamEventStore;
  const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });
  const subjects = subjectsFor(ns);

  beforeAll(async () => {
    service = await bootForTest(MetadataService, ns, { CAIRN_ROOT_ACCESS_KEY: 'CAIRNTESTROOTKEY0002', CAIRN_ROOT_SECRET_KEY: 'test-root-secret-key-0000000000' });
    await service.transport.started;
    rpc = service.app.get(RpcClient);
    store = service.app.get(JetStreamEventStore);
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await dropNamespace(ns);
  }, 60_000);

  /** The stream sequences of the bucket's BucketCreated events: its lives, oldest first. */
  async function livesOf(bucket: string): Promise<number[]> {
    const read = await store.read(subjects.bucket(bucket));
    return read.events.filter((e) => e.envelope.type === 'BucketCreated').map((e) => e.sequence);
  }

  /**
   * Appends a version of `key` as a put of life `incarnation` would have, had it read the bucket
   * before its delete and appended only now (the shell never acknowledged it: its re-check of the
   * bucket failed). Built from the key's first event, so the envelope is exactly a real one.
   */
  async function appendStrayPut(bucket: string, key: string, incarnation: number, content: string, versionId = `stray${md5(content).slice(0, 12)}`): Promise<string> {
    const subject = subjects.object(bucket, keyIdOf(key));
    const read = await store.read(subject);
    const template = read.events[0].envelope;
    const data = { ...(template.data as Record<string, unknown>), versionId, etag: md5(content), incarnation };
    await store.append(subject, [{ ...template, id: `stray-${versionId}-${ns}`, data }], read.lastSequence);
    return versionId;
  }

  it('lets If-None-Match: * create a key again after the bucket was emptied, deleted and created again, ignoring a put that lost its race with the delete', async () => {
    const bucket = 'reborn';
    await call(MetadataRpc.createBucket, { bucket, owner: 'alice', versioningEnabled: true });
    const first = await call<PutObjectReply>(MetadataRpc.putObject, { bucket, ...body('k', 'first life') });
    const [life1] = await livesOf(bucket);
    const keyHistory = await store.read(subjects.object(bucket, keyIdOf('k')));
    expect(keyHistory.events.map((e) => (e.envelope.data as { incarnation?: number }).incarnation)).toEqual([life1]);

    // Empty the bucket and delete it.
    const marker = await call<DeleteObjectReply>(MetadataRpc.deleteObject, { bucket, key: 'k' });
    await call(MetadataRpc.deleteObject, { bucket, key: 'k', versionId: marker.versionId });
    await call(MetadataRpc.deleteObject, { bucket, key: 'k', versionId: first.versionId });
    expect(await codeOf(call(MetadataRpc.deleteBucket, { bucket }))).toBe('OK');

    // A put of the first life lands after the delete, and a slower one after the name was created again.
    await appendStrayPut(bucket, 'k', life1, 'lost the race');
    await call(MetadataRpc.createBucket, { bucket, owner: 'bob', versioningEnabled: true });
    const [, life2] = await livesOf(bucket);
    expect(life2).toBeGreaterThan(life1);
    const slow = await appendStrayPut(bucket, 'k', life1, 'lost the race, slowly');

    const created = await call<PutObjectReply>(MetadataRpc.putObject, { bucket, ...body('k', 'second life'), ifNoneMatch: '*' });
    expect(await codeOf(call(MetadataRpc.putObject, { bucket, ...body('k', 'again'), ifNoneMatch: '*' }))).toBe('PreconditionFailed');
    // Versions of the first life are not the key's: neither removable nor listed.
    expect(await codeOf(call(MetadataRpc.deleteObject, { bucket, key: 'k', versionId: slow }))).toBe('NoSuchVersion');
    const versions = await call<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, { bucket, minSequence: created.sequence });
    // Delete markers are versions here: none of the first life's shows.
    expect(versions.versions.map((v) => [v.key, v.versionId, v.isLatest, v.isDeleteMarker])).toEqual([['k', created.versionId, true, false]]);
    const listed = await call<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, { bucket });
    expect(listed.contents.map((c) => [c.key, c.etag])).toEqual([['k', md5('second life')]]);
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket, key: 'k' });
    expect(head).toMatchObject({ versionId: created.versionId, etag: md5('second life') });
  });

  it('starts an unversioned bucket created again with none of its earlier keys', async () => {
    const bucket = 'reborn-plain';
    await call(MetadataRpc.createBucket, { bucket, owner: 'alice' });
    await call<PutObjectReply>(MetadataRpc.putObject, { bucket, ...body('k', 'first life') });
    const [life1] = await livesOf(bucket);
    await call(MetadataRpc.deleteObject, { bucket, key: 'k' });
    expect(await codeOf(call(MetadataRpc.deleteBucket, { bucket }))).toBe('OK');
    await call(MetadataRpc.createBucket, { bucket, owner: 'alice' });
    // The null version of a put that read the first life, landing in the second.
    await appendStrayPut(bucket, 'k', life1, 'lost the race', 'null');

    const created = await call<PutObjectReply>(MetadataRpc.putObject, { bucket, ...body('k', 'second life'), ifNoneMatch: '*' });
    expect(created.versionId).toBe('null');
    const versions = await call<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, { bucket, minSequence: created.sequence });
    expect(versions.versions.map((v) => [v.key, v.versionId, v.etag])).toEqual([['k', 'null', md5('second life')]]);
  });

  it('refuses parts and completion for an upload of the earlier life, and lists none of its uploads', async () => {
    const bucket = 'reborn-uploads';
    const part = (uploadId: string, content: string) => ({
      bucket,
      uploadId,
      partNumber: 1,
      etag: md5(content),
      sizeBytes: Buffer.byteLength(content),
      chunks: [{ hash: sha256(content), offsetBytes: 0, sizeBytes: Buffer.byteLength(content) }],
    });
    const completion = (uploadId: string, content: string) => ({ bucket, uploadId, parts: [{ partNumber: 1, etag: md5(content) }] });

    await call(MetadataRpc.createBucket, { bucket, owner: 'alice' });
    const [life1] = await livesOf(bucket);
    const old = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket, key: 'k', owner: 'alice' });
    await call<UploadPartReply>(MetadataRpc.uploadPart, part(old.uploadId, 'first life'));
    const oldHistory = await store.read(subjects.upload(bucket, old.uploadId));
    expect(oldHistory.events.map((e) => [e.envelope.type, (e.envelope.data as { incarnation?: number }).incarnation])).toEqual([
      ['MultipartUploadInitiated', life1],
      ['MultipartPartUploaded', undefined],
    ]);

    // The bucket has no versions: its delete does not wait for open uploads.
    expect(await codeOf(call(MetadataRpc.deleteBucket, { bucket }))).toBe('OK');
    await call(MetadataRpc.createBucket, { bucket, owner: 'bob' });
    const [, life2] = await livesOf(bucket);
    expect(life2).toBeGreaterThan(life1);

    // An initiation of the first life that lost its race with the delete and landed in the second.
    const strayId = `stray-upload-${life1}`;
    const straySubject = subjects.upload(bucket, strayId);
    const template = oldHistory.events[0].envelope;
    await store.append(
      straySubject,
      [{ ...template, id: `stray-initiate-${ns}`, aggregateId: strayId, data: { ...(template.data as Record<string, unknown>), uploadId: strayId } }],
      (await store.read(straySubject)).lastSequence,
    );

    // The first life's uploads neither take parts nor complete in the second.
    expect(await codeOf(call(MetadataRpc.uploadPart, part(old.uploadId, 'late part')))).toBe('NoSuchUpload');
    expect(await codeOf(call(MetadataRpc.completeUpload, completion(old.uploadId, 'first life')))).toBe('NoSuchUpload');
    expect(await codeOf(call(MetadataRpc.uploadPart, part(strayId, 'late part')))).toBe('NoSuchUpload');

    // An upload of the second life works, and is the only one listed.
    const fresh = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket, key: 'k', owner: 'bob' });
    await call<UploadPartReply>(MetadataRpc.uploadPart, part(fresh.uploadId, 'second life'));
    const listed = await call<ListUploadsReply>(MetadataRpc.listUploads, { bucket, minSequence: fresh.sequence });
    expect(listed.uploads.map((u) => u.uploadId)).toEqual([fresh.uploadId]);
    const done = await call<CompleteUploadReply>(MetadataRpc.completeUpload, completion(fresh.uploadId, 'second life'));
    const objects = await call<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, { bucket, minSequence: done.sequence });
    expect(objects.contents.map((c) => [c.key, c.etag])).toEqual([['k', done.etag]]);
  });
});
