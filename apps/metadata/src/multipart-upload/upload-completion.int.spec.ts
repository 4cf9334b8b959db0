import { keyIdOf } from '@cairn/hashing';
import type { MultipartUploadCompleted } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { ChunkReferenceQueries } from '../chunk-references/chunk-references.queries';
import { tableIn } from '../adapters/metadata-schema';
import { md5Hex, MetadataWorld, sha256Hex } from '../testing/metadata-world';
import { openTestSchema, snapshotReadModel } from '../testing/test-database';
import { MetadataProjector } from '../projections/metadata-projector';
import { MultipartUploadQueries } from './multipart-upload.queries';

const MiB = 1024 ** 2;
const PART_SIZE_BYTES = 5 * MiB;
const BUCKET = 'uploads';
const STANDARD_REPLICATION_FACTOR = 3;
const EVERY_REFERENCE = { after: '', before: null, limit: 10_000 } as const;

/** An upload of `key` with one part per body, each a single chunk named after its body (all but the last 5 MiB). */
async function uploadWithParts(world: MetadataWorld, uploadId: string, key: string, bodies: readonly string[]): Promise<void> {
  await world.upload({
    type: 'InitiateMultipartUpload',
    bucket: BUCKET,
    key,
    keyId: keyIdOf(key),
    uploadId,
    owner: 'alice',
    initiatedAt: world.at(),
    contentType: 'application/octet-stream',
    userMetadata: {},
    storageClass: 'STANDARD',
  });
  for (const [i, body] of bodies.entries()) {
    const sizeBytes = i === bodies.length - 1 ? Buffer.byteLength(body) : PART_SIZE_BYTES;
    await world.upload({
      type: 'UploadPart',
      bucket: BUCKET,
      uploadId,
      partNumber: i + 1,
      etag: md5Hex(body),
      sizeBytes,
      checksums: {},
      chunks: [{ hash: sha256Hex(body), offsetBytes: 0, sizeBytes }],
      lastModified: world.at(),
    });
  }
}

/** Completes the upload of those bodies (what the shell appends on the upload's subject first); returns the completion. */
async function complete(world: MetadataWorld, uploadId: string, bodies: readonly string[], versionId: string): Promise<MultipartUploadCompleted['data']> {
  const handled = await world.upload({
    type: 'CompleteMultipartUpload',
    bucket: BUCKET,
    uploadId,
    parts: bodies.map((body, i) => ({ partNumber: i + 1, etag: md5Hex(body) })),
    versionId,
    completedAt: world.at(),
  });
  const [event] = handled.events;
  if (event?.type !== 'MultipartUploadCompleted') throw new Error(`upload ${uploadId} did not complete`);
  return event.data as MultipartUploadCompleted['data'];
}

/** The version the shell then puts on the key's subject, naming the upload. */
async function putVersionOf(world: MetadataWorld, done: MultipartUploadCompleted['data']): Promise<void> {
  await world.object({
    type: 'PutObjectVersion',
    bucket: BUCKET,
    key: done.key,
    keyId: done.keyId,
    versionId: done.versionId,
    versioning: 'Unversioned',
    sizeBytes: done.sizeBytes,
    etag: done.etag,
    checksums: {},
    contentType: 'application/octet-stream',
    userMetadata: {},
    chunks: done.chunks,
    storageClass: 'STANDARD',
    hlc: `hlc-${done.versionId}`,
    lastModified: done.completedAt,
    uploadId: done.uploadId,
    partSizes: done.parts.map((p) => p.sizeBytes),
  });
}

/**
 * CompleteMultipartUpload appends the completion (upload subject) before the version (key
 * subject). In between, and for good if the shell stops there until the client retries, the
 * completed upload's part chunk rows are the only rows naming its chunks: garbage collection takes
 * a chunk chunk.references does not answer for unreferenced, so they must stay until the version
 * is projected, and only then go.
 */
describe('a completed upload until its version is projected (Postgres)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let queries: MultipartUploadQueries;
  let references: ChunkReferenceQueries;
  let t: (table: string) => string;

  beforeAll(async () => {
    db = await openTestSchema('completion');
    queries = new MultipartUploadQueries(db.dataSource);
    references = new ChunkReferenceQueries(db.dataSource);
    t = tableIn(db.schema);
  });
  afterAll(() => db.drop());

  /** A fresh read model for each test: each world numbers its stream from 1. */
  beforeEach(async () => {
    for (const table of ['buckets', 'object_versions', 'multipart_uploads', 'projection_checkpoints']) await db.dataSource.query(`DELETE FROM ${t(table)}`);
  });

  const referencedHashes = async () => (await references.listChunkReferences(EVERY_REFERENCE, 'metadata', STANDARD_REPLICATION_FACTOR)).chunks;
  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    Number((await db.dataSource.query(`SELECT count(*)::int AS n FROM ${t(table)} WHERE ${where}`, params))[0].n);
  const project = (world: MetadataWorld) => new MetadataProjector(db.dataSource).project(world.store.all());

  it('keeps the chunks referenced through the part rows after the completion, then through the version alone', async () => {
    const world = new MetadataWorld();
    await world.createBucket(BUCKET);
    const bodies = ['big part one', 'big part two'];
    await uploadWithParts(world, 'u1', 'big.bin', bodies);
    await project(world);
    const parts = [
      { hash: sha256Hex(bodies[0]), sizeBytes: PART_SIZE_BYTES, replicationFactor: STANDARD_REPLICATION_FACTOR },
      { hash: sha256Hex(bodies[1]), sizeBytes: Buffer.byteLength(bodies[1]), replicationFactor: STANDARD_REPLICATION_FACTOR },
    ].sort((x, y) => (x.hash < y.hash ? -1 : 1));
    expect(await referencedHashes()).toEqual(parts);

    // Completed, the version not appended yet (or the shell died in between).
    const done = await complete(world, 'u1', bodies, 'v-mpu');
    await project(world);
    expect(await referencedHashes()).toEqual(parts);
    expect(await count('multipart_part_chunks', 'upload_id = $1', ['u1'])).toBe(2);
    expect(await count('multipart_uploads', 'upload_id = $1 AND completed_sequence IS NOT NULL', ['u1'])).toBe(1);
    // ...and out of the listings, as S3 has it once completion answered.
    expect((await queries.listMultipartUploads(BUCKET, {})).uploads).toEqual([]);
    await expect(queries.listParts(BUCKET, 'u1')).rejects.toMatchObject({ code: 'NoSuchUpload' });

    await putVersionOf(world, done);
    await project(world);
    expect(await count('multipart_uploads')).toBe(0);
    expect(await count('multipart_parts')).toBe(0);
    expect(await count('multipart_part_chunks')).toBe(0);
    const versionChunks = await db.dataSource.query(`SELECT chunk_hash FROM ${t('object_version_chunks')} WHERE version_id = 'null' ORDER BY ordinal`);
    expect(versionChunks.map((r: { chunk_hash: string }) => r.chunk_hash)).toEqual(bodies.map(sha256Hex));
    expect(await referencedHashes()).toEqual(parts);
  });

  it('drops the rows with the version also when both land in one batch', async () => {
    const world = new MetadataWorld();
    await world.createBucket(BUCKET);
    const bodies = ['one batch a', 'one batch b'];
    await uploadWithParts(world, 'u1', 'k', bodies);
    await putVersionOf(world, await complete(world, 'u1', bodies, 'v1'));
    await project(world);
    expect([await count('multipart_uploads'), await count('multipart_part_chunks')]).toEqual([0, 0]);
    expect((await referencedHashes()).map((c) => c.hash).sort()).toEqual(bodies.map(sha256Hex).sort());
  });

  it("drops an aborted upload's rows, and so its chunk references, at once", async () => {
    const world = new MetadataWorld();
    await world.createBucket(BUCKET);
    await uploadWithParts(world, 'u1', 'k', ['aborted a', 'aborted b']);
    await project(world);
    expect(await referencedHashes()).toHaveLength(2);
    await world.upload({ type: 'AbortMultipartUpload', bucket: BUCKET, uploadId: 'u1', abortedAt: world.at() });
    await project(world);
    expect(await referencedHashes()).toEqual([]);
    expect([await count('multipart_uploads'), await count('multipart_parts'), await count('multipart_part_chunks')]).toEqual([0, 0, 0]);
  });

  it('lists uploads and parts as before: a completed upload is left out, and a marker naming it pages on as past a gone one', async () => {
    const world = new MetadataWorld();
    await world.createBucket(BUCKET);
    for (const [uploadId, key] of [['u1', 'a.bin'], ['u2', 'a.bin'], ['u3', 'a.bin'], ['u4', 'b.bin']]) await uploadWithParts(world, uploadId, key, [`${uploadId} only part`]);
    await complete(world, 'u2', ['u2 only part'], 'v-u2');
    await project(world);
    const listed = await queries.listMultipartUploads(BUCKET, {});
    expect(listed.uploads.map((u) => u.uploadId)).toEqual(['u1', 'u3', 'u4']);
    // The marker's upload is gone from the listing: the key is listed again from its first upload.
    const afterCompleted = await queries.listMultipartUploads(BUCKET, { keyMarker: 'a.bin', uploadIdMarker: 'u2' });
    expect(afterCompleted.uploads.map((u) => u.uploadId)).toEqual(['u1', 'u3', 'u4']);
    const afterOpen = await queries.listMultipartUploads(BUCKET, { keyMarker: 'a.bin', uploadIdMarker: 'u1', maxKeys: 1 });
    expect(afterOpen).toMatchObject({ uploads: [{ uploadId: 'u3' }], isTruncated: true, nextKeyMarker: 'a.bin', nextUploadIdMarker: 'u3' });
    expect((await queries.listParts(BUCKET, 'u1')).parts.map((p) => [p.partNumber, p.etag])).toEqual([[1, md5Hex('u1 only part')]]);
    await expect(queries.listParts(BUCKET, 'u2')).rejects.toMatchObject({ code: 'NoSuchUpload' });
    // Its chunk is still referenced, the open ones' too.
    expect(await referencedHashes()).toHaveLength(4);
  });

  it('reopens a withdrawn completion with the parts it had, listed again', async () => {
    const world = new MetadataWorld();
    await world.createBucket(BUCKET);
    const bodies = ['withdrawn one', 'withdrawn two'];
    await uploadWithParts(world, 'u1', 'k', bodies);
    await project(world);
    const open = await snapshotReadModel(db.dataSource, db.schema);
    await complete(world, 'u1', bodies, 'v-refused');
    await project(world);
    await world.upload({ type: 'WithdrawUploadCompletion', bucket: BUCKET, uploadId: 'u1', versionId: 'v-refused', withdrawnAt: world.at() });
    await project(world);
    expect((await queries.listMultipartUploads(BUCKET, {})).uploads.map((u) => u.uploadId)).toEqual(['u1']);
    expect((await queries.listParts(BUCKET, 'u1')).parts.map((p) => p.etag)).toEqual(bodies.map(md5Hex));
    expect(await count('multipart_uploads', 'completed_sequence IS NULL')).toBe(1);
    // As it stood before the completion, but initiated anew by the withdrawal (as it always was).
    const reopened = await snapshotReadModel(db.dataSource, db.schema);
    expect(reopened['multipart_part_chunks']).toEqual(open['multipart_part_chunks']);
    expect((reopened['multipart_parts'] as { etag: string }[]).map((p) => p.etag)).toEqual((open['multipart_parts'] as { etag: string }[]).map((p) => p.etag));
  });

  it('projects the same state one event at a time as in one batch, a completion left without its version included', async () => {
    const world = new MetadataWorld();
    await world.createBucket(BUCKET);
    await uploadWithParts(world, 'u1', 'k1', ['a1', 'a2']);
    await uploadWithParts(world, 'u2', 'k2', ['b1', 'b2']);
    await uploadWithParts(world, 'u3', 'k3', ['c1']);
    await uploadWithParts(world, 'u4', 'k4', ['d1', 'd2']);
    await putVersionOf(world, await complete(world, 'u1', ['a1', 'a2'], 'v1'));
    await complete(world, 'u2', ['b1', 'b2'], 'v2');
    await world.upload({ type: 'AbortMultipartUpload', bucket: BUCKET, uploadId: 'u3', abortedAt: world.at() });
    await complete(world, 'u4', ['d1', 'd2'], 'v4');
    await world.upload({ type: 'WithdrawUploadCompletion', bucket: BUCKET, uploadId: 'u4', versionId: 'v4', withdrawnAt: world.at() });
    await world.put(BUCKET, 'k1', 'replaced');
    const events = world.store.all();
    const oneByOne = await openTestSchema('completion-single');
    const batched = await openTestSchema('completion-batch');
    try {
      const single = new MetadataProjector(oneByOne.dataSource);
      for (const event of events) await single.project([event]);
      await new MetadataProjector(batched.dataSource).project(events);
      const state = await snapshotReadModel(batched.dataSource, batched.schema);
      expect(state).toEqual(await snapshotReadModel(oneByOne.dataSource, oneByOne.schema));
      expect((state['multipart_uploads'] as { upload_id: string; completed_sequence: string | null }[]).map((u) => [u.upload_id, u.completed_sequence !== null])).toEqual([
        ['u2', true],
        ['u4', false],
      ]);
    } finally {
      await oneByOne.drop();
      await batched.drop();
    }
  });
});
