import { randomUUID } from 'node:crypto';
import { keyIdOf } from '@cairn/hashing';
import { JetStreamEventStore, NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataEventSchemaVersions, MetadataRpc, subjectsFor } from '@cairn/protocol';
import type { EventEnvelope, ListObjectVersionsReply, ObjectVersionView } from '@cairn/protocol';
import { PostgresConnection, type RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, testNamespace } from '@cairn/testing';
import { JSONCodec } from 'nats';
import type { MetadataConfig } from './metadata.config';
import { ProjectionTracker } from './projections/projection-tracker';
import { MetadataService } from './service';
import { md5, RPC_TIMEOUT_MS, sha256 } from './testing/rpc-test-helpers';

const BUCKET = 'heirloom';
const KEY = 'old.txt';
const at = '2026-11-01T00:00:00.000Z';

/** What a version 1 writer stored for an upload initiated without content headers (and before bucket lives). */
const initiatedV1 = (uploadId: string) => ({
  bucket: BUCKET,
  key: 'big.bin',
  keyId: keyIdOf('big.bin'),
  uploadId,
  owner: 'alice',
  initiatedAt: at,
  contentType: 'application/octet-stream',
  userMetadata: {},
  storageClass: 'STANDARD',
  tags: [],
});

/**
 * Events written by older code, published to the real META stream as they were stored (version 1,
 * without the fields version 2 always has), are read in their current shape wherever events are
 * read: the event store, the key's read fold, the META projection worker and a rebuild.
 */
describe('events stored at an older schema version (real JetStream and Postgres)', () => {
  const ns = testNamespace();
  const subjects = subjectsFor(ns);
  let service: RunningService<MetadataConfig>;
  let rpc: RpcClient;
  const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });

  beforeAll(async () => {
    service = await bootForTest(MetadataService, ns, { CAIRN_ROOT_ACCESS_KEY: 'CAIRNTESTROOTKEY0003', CAIRN_ROOT_SECRET_KEY: 'test-root-secret-key-0000000000' });
    await service.transport.started;
    rpc = service.app.get(RpcClient);
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await dropNamespace(ns);
  }, 60_000);

  /** Appends an envelope of `schemaVersion` the way older code did, with no upcasting or stamping in between. */
  async function publishRaw(subject: string, type: string, schemaVersion: number, data: unknown): Promise<number> {
    const envelope: EventEnvelope = {
      id: randomUUID(),
      type,
      schemaVersion,
      aggregateId: subject,
      region: 'eu-one',
      hlc: '0000000001-0000-eu-one',
      causationId: null,
      correlationId: null,
      occurredAt: at,
      data,
    };
    const js = await service.app.get(NatsConnectionManager).jetstream();
    return (await js.publish(subject, JSONCodec().encode(envelope), { msgID: envelope.id })).seq;
  }

  async function rowsOf(table: string, order: string): Promise<Record<string, unknown>[]> {
    const ds = await service.app.get(PostgresConnection).ready();
    const schema = (ds.options as { schema: string }).schema;
    return ds.query(`SELECT * FROM "${schema}"."${table}" WHERE bucket = $1 ORDER BY ${order}`, [BUCKET]);
  }

  it('reads them in their current shape through the store, the key read, the projection and a rebuild', async () => {
    await publishRaw(subjects.bucket(BUCKET), 'BucketCreated', 1, {
      bucket: BUCKET,
      owner: 'alice',
      region: 'eu-one',
      createdAt: at,
      versioning: 'Unversioned',
      replication: { mode: 'local' },
      defaultStorageClass: 'STANDARD',
    });
    const objectSubject = subjects.object(BUCKET, keyIdOf(KEY));
    await publishRaw(objectSubject, 'ObjectVersionPut', 1, {
      bucket: BUCKET,
      key: KEY,
      keyId: keyIdOf(KEY),
      versionId: 'null',
      sizeBytes: 3,
      etag: md5('old'),
      checksums: {},
      contentType: 'text/plain',
      userMetadata: { era: 'v1' },
      chunks: [{ hash: sha256('old'), offsetBytes: 0, sizeBytes: 3 }],
      storageClass: 'STANDARD',
      tags: [],
      hlc: '0000000001-0000-eu-one',
      lastModified: at,
    });
    await publishRaw(subjects.upload(BUCKET, 'u-open'), 'MultipartUploadInitiated', 1, initiatedV1('u-open'));
    // An upload whose completion was withdrawn: the withdrawal carries the upload as version 1 initiated it.
    const withdrawnSubject = subjects.upload(BUCKET, 'u-back');
    await publishRaw(withdrawnSubject, 'MultipartUploadInitiated', 1, initiatedV1('u-back'));
    await publishRaw(withdrawnSubject, 'MultipartUploadCompleted', 1, {
      ...initiatedV1('u-back'),
      versionId: 'v-never',
      etag: `${md5('x')}-1`,
      sizeBytes: 0,
      chunks: [],
      parts: [{ partNumber: 1, etag: md5('x'), sizeBytes: 0 }],
      completedAt: at,
    });
    const last = await publishRaw(withdrawnSubject, 'MultipartUploadCompletionWithdrawn', 1, {
      bucket: BUCKET,
      uploadId: 'u-back',
      versionId: 'v-never',
      withdrawnAt: at,
      upload: initiatedV1('u-back'),
      parts: [],
    });

    // The event store.
    const [stored] = (await service.app.get(JetStreamEventStore).read(objectSubject)).events;
    expect(stored.envelope).toMatchObject({ type: 'ObjectVersionPut', schemaVersion: MetadataEventSchemaVersions.ObjectVersionPut, data: { contentHeaders: {} } });

    // The key's read fold, over the command side's caching store.
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: BUCKET, key: KEY });
    expect(head).toMatchObject({ versionId: 'null', etag: md5('old'), userMetadata: { era: 'v1' }, contentHeaders: {}, partSizes: null, uploadId: null });

    // The META projection worker: every event projected, none parked.
    const listed = await eventually(() => call<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, { bucket: BUCKET, minSequence: last }).catch(() => undefined), 20_000);
    expect(listed.versions.map((v) => v.key)).toEqual([KEY]);
    const projected = {
      versions: (await rowsOf('object_versions', 'key_id')).map((r) => [r['key'], r['content_headers'], r['user_metadata']]),
      uploads: (await rowsOf('multipart_uploads', 'upload_id')).map((r) => [r['upload_id'], r['content_headers']]),
    };
    expect(projected).toEqual({
      versions: [[KEY, {}, { era: 'v1' }]],
      uploads: [
        ['u-back', {}],
        ['u-open', {}],
      ],
    });

    // A rebuild replays the stream through the same chain into the same rows.
    const rebuilt = await service.app.get(ProjectionTracker).startRebuild().done;
    expect(rebuilt.state).toBe('done');
    expect({
      versions: (await rowsOf('object_versions', 'key_id')).map((r) => [r['key'], r['content_headers'], r['user_metadata']]),
      uploads: (await rowsOf('multipart_uploads', 'upload_id')).map((r) => [r['upload_id'], r['content_headers']]),
    }).toEqual(projected);
  }, 60_000);
});
