import type { Projection } from '@cairn/eventing';
import type { EventEnvelope, MultipartUploadCompleted } from '@cairn/protocol';
import type { DataSource, EntityManager } from 'typeorm';
import { createHash } from 'node:crypto';
import { tableIn } from '../adapters/metadata-schema';
import { openTestSchema, snapshotReadModel } from '../testing/test-database';
import { keyIdOf } from '@cairn/hashing';
import { md5Hex, MetadataWorld } from '../testing/metadata-world';
import { MetadataProjection } from './metadata.projection';
import { MetadataProjector } from './metadata-projector';

const MiB = 1024 ** 2;
const lastSequenceOf = (events: readonly { sequence: number }[]) => events[events.length - 1].sequence;

/** A history touching every table: buckets, versions and markers, uploads, keys, nodes. */
async function buildHistory(): Promise<MetadataWorld> {
  const w = new MetadataWorld();
  await w.createBucket('photos', 'Enabled');
  await w.createBucket('plain');
  const v1 = await w.put('photos', 'cat.jpg', 'meow 1', 'Enabled');
  await w.put('photos', 'cat.jpg', 'meow 2', 'Enabled');
  await w.put('photos', 'dog.jpg', 'woof', 'Enabled');
  await w.deleteObject('photos', 'dog.jpg', 'Enabled');
  await w.object({ type: 'PutObjectTags', bucket: 'photos', key: 'cat.jpg', keyId: keyIdOf('cat.jpg'), versionId: v1, tags: [{ key: 'old', value: 'yes' }] });
  await w.put('plain', 'a.txt', 'one');
  await w.put('plain', 'a.txt', 'two');
  await w.put('plain', 'empty', '');
  await w.bucket({ type: 'PutBucketTags', bucket: 'photos', tags: [{ key: 'team', value: 'media' }] });
  await w.bucket({ type: 'SetBucketReplication', bucket: 'photos', replication: { mode: 'active-passive', homeRegion: 'us-two' } });

  const key = 'videos/big.mp4';
  await w.upload({ type: 'InitiateMultipartUpload', bucket: 'photos', key, keyId: keyIdOf(key), uploadId: 'u1', owner: 'alice', initiatedAt: w.at(), contentType: 'video/mp4', userMetadata: {}, storageClass: 'STANDARD' });
  const part = (partNumber: number, body: string, sizeBytes: number) =>
    w.upload({
      type: 'UploadPart',
      bucket: 'photos',
      uploadId: 'u1',
      partNumber,
      etag: md5Hex(body),
      sizeBytes,
      checksums: {},
      chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes }],
      lastModified: w.at(),
    });
  await part(1, 'first try', 5 * MiB);
  await part(1, 'part one', 5 * MiB);
  await part(2, 'part two', 3);
  await w.upload({
    type: 'InitiateMultipartUpload',
    bucket: 'photos',
    key,
    keyId: keyIdOf(key),
    uploadId: 'u2',
    owner: 'alice',
    initiatedAt: w.at(),
    contentType: 'video/mp4',
    userMetadata: {},
    contentHeaders: { 'content-disposition': 'attachment' },
    storageClass: 'STANDARD',
  });

  await w.accessKey({ type: 'CreateAccessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', secret: { kind: 'plaintext', value: 'wJalrXUtnFEMI/K7MDENG' }, owner: 'alice', createdAt: w.at() });
  await w.accessKey({ type: 'CreateAccessKey', accessKeyId: 'AKIAOLDKEY000000OLD1', secretAccessKey: 'old-secret-1', secret: { kind: 'plaintext', value: 'old-secret-1' }, owner: 'bob', createdAt: w.at() });
  await w.accessKey({ type: 'RevokeAccessKey', accessKeyId: 'AKIAOLDKEY000000OLD1', revokedAt: w.at() });
  for (const nodeId of ['n1', 'n2', 'n3']) {
    await w.membership({ type: 'JoinStorageNode', nodeId, zone: `z-${nodeId}`, host: `h-${nodeId}`, address: `http://${nodeId}:9201`, weight: 100, capacityBytes: 1000, joinedAt: w.at() });
  }
  await w.membership({ type: 'ChangeStorageNodeWeight', nodeId: 'n2', weight: 50, capacityBytes: 500 });
  await w.membership({ type: 'DrainStorageNode', nodeId: 'n3', drainedAt: w.at() });
  await w.membership({ type: 'RemoveStorageNode', nodeId: 'n1', removedAt: w.at() });
  return w;
}

describe('MetadataProjector (Postgres)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let world: MetadataWorld;
  beforeAll(async () => {
    db = await openTestSchema('projector');
    world = await buildHistory();
  });
  afterAll(() => db.drop());

  const t = (table: string) => tableIn(db.schema)(table);

  it('projects a history into rows and records the sequence it reached', async () => {
    const projector = new MetadataProjector(db.dataSource);
    const events = world.store.all();
    const result = await projector.project(events);
    expect(result).toEqual({ applied: events.length, skipped: 0, checkpoint: lastSequenceOf(events) });
    expect(await projector.checkpoint()).toBe(lastSequenceOf(events));

    const buckets = await db.dataSource.query(`SELECT name, versioning, replication_mode, home_region, tags FROM ${t('buckets')} ORDER BY name`);
    expect(buckets).toEqual([
      { name: 'photos', versioning: 'Enabled', replication_mode: 'active-passive', home_region: 'us-two', tags: [{ key: 'team', value: 'media' }] },
      { name: 'plain', versioning: 'Unversioned', replication_mode: 'local', home_region: null, tags: [] },
    ]);

    const versions = await db.dataSource.query(
      `SELECT bucket, key, version_id, is_current, is_delete_marker, size_bytes, tags FROM ${t('object_versions')} ORDER BY bucket, key, sequence`,
    );
    expect(versions.map((v: Record<string, unknown>) => [v['bucket'], v['key'], v['is_current'], v['is_delete_marker'], v['size_bytes']])).toEqual([
      ['photos', 'cat.jpg', false, false, '6'],
      ['photos', 'cat.jpg', true, false, '6'],
      ['photos', 'dog.jpg', false, false, '4'],
      ['photos', 'dog.jpg', true, true, '0'],
      ['plain', 'a.txt', true, false, '3'],
      ['plain', 'empty', true, false, '0'],
    ]);
    expect(versions[0].tags).toEqual([{ key: 'old', value: 'yes' }]);
    expect(versions.find((v: Record<string, unknown>) => v['key'] === 'a.txt').version_id).toBe('null');

    const chunkCount = await db.dataSource.query(`SELECT count(*)::int AS n FROM ${t('object_version_chunks')}`);
    expect(chunkCount).toEqual([{ n: 4 }]); // two cats, one dog, one a.txt (the replaced null version's chunk went with it)

    const uploads = await db.dataSource.query(`SELECT upload_id FROM ${t('multipart_uploads')} ORDER BY upload_id`);
    expect(uploads).toEqual([{ upload_id: 'u1' }, { upload_id: 'u2' }]);
    const parts = await db.dataSource.query(`SELECT part_number, etag FROM ${t('multipart_parts')} ORDER BY part_number`);
    expect(parts).toEqual([
      { part_number: 1, etag: md5Hex('part one') },
      { part_number: 2, etag: md5Hex('part two') },
    ]);

    const keys = await db.dataSource.query(`SELECT access_key_id, revoked_at IS NOT NULL AS revoked FROM ${t('access_keys')} ORDER BY 1`);
    expect(keys).toEqual([
      { access_key_id: 'AKIAIOSFODNN7EXAMPLE', revoked: false },
      { access_key_id: 'AKIAOLDKEY000000OLD1', revoked: true },
    ]);
    const nodes = await db.dataSource.query(`SELECT node_id, weight, draining, epoch FROM ${t('storage_nodes')} ORDER BY node_id`);
    expect(nodes).toEqual([
      { node_id: 'n2', weight: 50, draining: false, epoch: '4' },
      { node_id: 'n3', weight: 100, draining: true, epoch: '5' },
    ]);
    expect(await db.dataSource.query(`SELECT epoch FROM ${t('ring_epoch')}`)).toEqual([{ epoch: '6' }]);
  });

  it('applies nothing twice: a replay of all events, or of overlapping batches, changes nothing', async () => {
    const projector = new MetadataProjector(db.dataSource);
    const before = await snapshotReadModel(db.dataSource, db.schema);
    const events = world.store.all();
    expect(await projector.project(events)).toEqual({ applied: 0, skipped: events.length, checkpoint: lastSequenceOf(events) });
    await projector.project(events.slice(5, 12));
    expect(await snapshotReadModel(db.dataSource, db.schema)).toEqual(before);
  });

  it('completes an upload into a version and drops its parts', async () => {
    const projector = new MetadataProjector(db.dataSource);
    const key = 'videos/big.mp4';
    const completed = await world.upload({
      type: 'CompleteMultipartUpload',
      bucket: 'photos',
      uploadId: 'u1',
      parts: [
        { partNumber: 1, etag: md5Hex('part one') },
        { partNumber: 2, etag: md5Hex('part two') },
      ],
      versionId: 'mpu-v1',
      completedAt: world.at(),
    });
    const [envelope] = completed.events;
    if (envelope.type !== 'MultipartUploadCompleted') throw new Error('expected the upload to complete');
    const done = { data: envelope.data as MultipartUploadCompleted['data'] };
    await world.object({
      type: 'PutObjectVersion',
      bucket: 'photos',
      key,
      keyId: keyIdOf(key),
      versionId: done.data.versionId,
      versioning: 'Enabled',
      sizeBytes: done.data.sizeBytes,
      etag: done.data.etag,
      checksums: {},
      contentType: 'video/mp4',
      userMetadata: {},
      chunks: done.data.chunks,
      storageClass: 'STANDARD',
      hlc: 'hlc-mpu',
      lastModified: done.data.completedAt,
      uploadId: 'u1',
      contentHeaders: { 'cache-control': 'max-age=60' },
      partSizes: done.data.parts.map((p) => p.sizeBytes),
    });
    await projector.project(world.store.all());
    expect(await db.dataSource.query(`SELECT upload_id FROM ${t('multipart_uploads')}`)).toEqual([{ upload_id: 'u2' }]);
    expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM ${t('multipart_part_chunks')}`)).toEqual([{ n: 0 }]);
    expect(await db.dataSource.query(`SELECT content_headers FROM ${t('multipart_uploads')}`)).toEqual([{ content_headers: { 'content-disposition': 'attachment' } }]);
    const [version] = await db.dataSource.query(`SELECT etag, size_bytes, upload_id, content_headers, part_sizes FROM ${t('object_versions')} WHERE key = $1`, [key]);
    expect(version).toEqual({
      etag: done.data.etag,
      size_bytes: String(5 * MiB + 3),
      upload_id: 'u1',
      content_headers: { 'cache-control': 'max-age=60' },
      part_sizes: [String(5 * MiB), '3'],
    });
    const chunks = await db.dataSource.query(`SELECT offset_bytes FROM ${t('object_version_chunks')} WHERE version_id = 'mpu-v1' ORDER BY ordinal`);
    expect(chunks).toEqual([{ offset_bytes: '0' }, { offset_bytes: String(5 * MiB) }]);
  });

  it('resumes after a crash mid-batch without double-applying, and equals a clean rebuild', async () => {
    const events = world.store.all();
    const crashed = await openTestSchema('crash');
    const rebuilt = await openTestSchema('rebuild');
    try {
      const real = new MetadataProjection(crashed.schema);
      let calls = 0;
      const crashAtEvent = Math.floor((events.length - 10) / 2);
      expect(crashAtEvent).toBeGreaterThan(2);
      const crashing: Projection<EntityManager> = {
        name: real.name,
        handles: real.handles,
        async apply(tx: EntityManager, envelope: EventEnvelope, sequence: number) {
          if (++calls === crashAtEvent) throw new Error('simulated crash inside the transaction');
          await real.apply(tx, envelope, sequence);
        },
      };
      const first = new MetadataProjector(crashed.dataSource);
      await first.project(events.slice(0, 10));
      const afterFirstBatch = await snapshotReadModel(crashed.dataSource, crashed.schema);
      await expect(new MetadataProjector(crashed.dataSource, { projection: crashing }).project(events.slice(10))).rejects.toThrow('simulated crash');
      expect(await first.checkpoint()).toBe(events[9].sequence);
      expect(await snapshotReadModel(crashed.dataSource, crashed.schema)).toEqual(afterFirstBatch);

      // Redelivery starts from the last acked batch, so it overlaps what was committed.
      await first.project(events.slice(5));
      await new MetadataProjector(rebuilt.dataSource).project(events);

      const a = await snapshotReadModel(crashed.dataSource, crashed.schema);
      const b = await snapshotReadModel(rebuilt.dataSource, rebuilt.schema);
      expect(a).toEqual(b);
      expect(a).toEqual(await snapshotReadModel(db.dataSource, db.schema));
    } finally {
      await crashed.drop();
      await rebuilt.drop();
    }
  });

  it('projects a batch (new versions of distinct keys as one set) exactly as it projects the same events one at a time', async () => {
    const w = await buildHistory();
    // Runs with keys repeated inside them, null versions replacing null versions, markers, copies of no key in particular.
    for (let round = 0; round < 3; round++) {
      for (const key of ['k1', 'k2', 'k3']) await w.put('plain', key, `${key} ${round}`);
      await w.put('photos', 'cat.jpg', `cat ${round}`, 'Enabled');
      await w.deleteObject('photos', `gone-${round}`, 'Enabled');
    }
    const events = w.store.all();
    const oneByOne = await openTestSchema('one-by-one');
    const batched = await openTestSchema('batched');
    try {
      const single = new MetadataProjector(oneByOne.dataSource);
      for (const event of events) await single.project([event]);
      await new MetadataProjector(batched.dataSource).project(events);
      expect(await snapshotReadModel(batched.dataSource, batched.schema)).toEqual(await snapshotReadModel(oneByOne.dataSource, oneByOne.schema));
    } finally {
      await oneByOne.drop();
      await batched.drop();
    }
  });

  it('refuses a batch out of stream order', async () => {
    const events = world.store.all();
    await expect(new MetadataProjector(db.dataSource).project([events[3], events[2]])).rejects.toThrow(/stream order/);
  });

  it('in contiguous mode applies only the run that continues the checkpoint, and skips only the next event', async () => {
    const projector = new MetadataProjector(db.dataSource, { checkpointName: 'contiguous-probe' });
    const template = world.store.all()[0].envelope;
    // Event types this projection does not handle: the checkpoint moves, no rows change.
    const at = (sequence: number) => ({ envelope: { ...template, id: `probe-${sequence}`, type: 'ChunkRepaired' }, sequence });
    // 1, 2, then a hole at 3: 4 and 5 wait for it (another instance holds 3).
    expect((await projector.project([at(1), at(2), at(4), at(5)], { contiguous: true })).checkpoint).toBe(2);
    expect((await projector.project([at(4), at(5)], { contiguous: true })).checkpoint).toBe(2);
    // A parked event is stepped over only when it is the very next one.
    expect(await projector.skip(5)).toBe(false);
    expect(await projector.skip(3)).toBe(true);
    expect(await projector.checkpoint()).toBe(3);
    expect((await projector.project([at(4), at(5)], { contiguous: true })).checkpoint).toBe(5);
  });

  it('skips event types it does not know, but moves past them', async () => {
    const projector = new MetadataProjector(db.dataSource);
    const last = await projector.checkpoint();
    const foreign = { ...world.store.all()[0].envelope, id: 'foreign', type: 'ChunkRepaired' };
    expect(await projector.project([{ envelope: foreign, sequence: last + 1 }])).toEqual({ applied: 0, skipped: 1, checkpoint: last + 1 });
  });

  it('drops an object write that lost the race with its bucket deletion', async () => {
    const w = new MetadataWorld();
    await w.createBucket('gone');
    await w.bucket({ type: 'BeginBucketDeletion', bucket: 'gone', deletionId: 'd1', startedAt: w.at() });
    await w.put('gone', 'late.txt', 'too late');
    await w.bucket({ type: 'DeleteBucket', bucket: 'gone', deletionId: 'd1', versionCount: 0, deletedAt: w.at() });
    await w.put('gone', 'later.txt', 'even later');
    const scratch = await openTestSchema('orphans');
    try {
      await new MetadataProjector(scratch.dataSource).project(w.store.all());
      const snapshot = await snapshotReadModel(scratch.dataSource, scratch.schema);
      expect([snapshot['buckets'], snapshot['object_versions'], snapshot['object_version_chunks']]).toEqual([[], [], []]);
    } finally {
      await scratch.drop();
    }
  });
});
