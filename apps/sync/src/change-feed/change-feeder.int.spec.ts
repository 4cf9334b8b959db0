import { randomUUID } from 'node:crypto';
import { AckPolicy, DiscardPolicy, JSONCodec, type JetStreamManager } from 'nats';
import { ensureStreams, NatsConnectionManager } from '@cairn/messaging';
import { changeFeedSubjects, subjectsFor, type ChangeRecord, type EventEnvelope } from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, TEST_NATS_URL, testNamespace } from '@cairn/testing';
import { SyncService } from '../service';
import type { SyncConfig } from '../sync.config';
import { LEGACY_CHANGE_FEED_DURABLE } from './change-feed.consumer';
import { CHANGE_SOURCE_SEQUENCE_HEADER, CHANGE_TYPE_HEADER, ChangeFeeder } from './change-feeder';

/**
 * The feeder against the real NATS: META events in, change records on CHANGES out, each once and
 * in META order — after a restart (it resumes where CHANGES ends), with two instances feeding at
 * once, when CHANGES refuses writes part way through a run of publishes, and with an event of a
 * newer schema (the feed waits there).
 */
jest.setTimeout(60_000);

const codec = JSONCodec<unknown>();

describe('change feeder (int: META → CHANGES on the real NATS)', () => {
  const ns = testNamespace();
  const meta = subjectsFor(ns);
  const changes = changeFeedSubjects(ns);
  let nats: NatsConnectionManager;
  let jsm: JetStreamManager;
  let sync: RunningService<SyncConfig> | undefined;

  const envelope = (type: string, data: Record<string, unknown>, extra: Partial<EventEnvelope> = {}): EventEnvelope => ({
    id: randomUUID(),
    type,
    schemaVersion: 1,
    aggregateId: `${String(data['bucket'])}/${String(data['key'])}`,
    region: 'region-1',
    hlc: '000000000100-00000001',
    causationId: null,
    correlationId: null,
    occurredAt: '2026-12-02T10:00:00.000Z',
    data,
    ...extra,
  });
  const append = async (subject: string, event: unknown): Promise<number> => {
    const js = await nats.jetstream();
    return (await js.publish(subject, codec.encode(event))).seq;
  };
  const stored = async (): Promise<{ record: ChangeRecord; subject: string; source: string | undefined; type: string | undefined }[]> => {
    const last = (await jsm.streams.info(changes.stream)).state.last_seq;
    const out = [];
    for (let seq = 1; seq <= last; seq++) {
      const m = await jsm.streams.getMessage(changes.stream, { seq });
      out.push({ record: codec.decode(m.data) as ChangeRecord, subject: m.subject, source: m.header?.get(CHANGE_SOURCE_SEQUENCE_HEADER), type: m.header?.get(CHANGE_TYPE_HEADER) });
    }
    return out;
  };

  beforeAll(async () => {
    nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace: ns, region: 'test', serviceName: 'test', instance: 'feeder-int' });
    jsm = await nats.jetstreamManager();
    await ensureStreams(jsm, ns);
  });

  afterAll(async () => {
    await sync?.close();
    await nats.close();
    await dropNamespace(ns);
  });

  it('publishes one record per object change on changes.<bucket>, with the bucket life and the origin region, and skips the rest', async () => {
    const bucketCreated = await append(meta.bucket('feed.int'), envelope('BucketCreated', { bucket: 'feed.int', owner: 'o', region: 'region-1', createdAt: '2026-12-01T09:00:00.000Z', versioning: 'Enabled', replication: { mode: 'local' }, defaultStorageClass: 'STANDARD' }));
    const ref = { bucket: 'feed.int', key: 'k.txt', keyId: 'a'.repeat(64), incarnation: bucketCreated };
    const version = { ...ref, versionId: 'v1', sizeBytes: 3, etag: 'e'.repeat(32), checksums: {}, contentType: 'text/plain', userMetadata: {}, contentHeaders: {}, chunks: [], storageClass: 'STANDARD', tags: [], hlc: 'h1', lastModified: '2026-12-02T10:00:00.000Z' };
    await append(meta.object('feed.int', ref.keyId), envelope('ObjectVersionPut', version, { schemaVersion: 2 }));
    await append(meta.object('feed.int', ref.keyId), 'not an envelope');
    await append(meta.object('feed.int', ref.keyId), envelope('ObjectVersionPut', { ...version, versionId: 'v2', incarnation: undefined }, { schemaVersion: 2, origin: 'region-2' }));
    await append(meta.upload('feed.int', 'u1'), envelope('MultipartUploadAborted', { bucket: 'feed.int', key: 'k.txt', uploadId: 'u1' }));
    await append(meta.object('feed.int', ref.keyId), envelope('DeleteMarkerPut', { ...ref, versionId: 'dm', hlc: 'h3', lastModified: '2026-12-02T10:00:02.000Z' }));

    sync = await bootForTest(SyncService, ns);
    const records = await eventually(async () => {
      const all = await stored().catch(() => []);
      return all.length >= 3 ? all : undefined;
    }, 20_000);
    expect(records.map((r) => [r.subject, r.type, r.record.versionId, r.record.region, r.record.bucketCreatedAt])).toEqual([
      [changes.bucket('feed.int'), 'object.created', 'v1', 'region-1', '2026-12-01T09:00:00.000Z'],
      [changes.bucket('feed.int'), 'object.created', 'v2', 'region-2', undefined],
      [changes.bucket('feed.int'), 'object.delete-marker', 'dm', 'region-1', '2026-12-01T09:00:00.000Z'],
    ]);
    expect(records.map((r) => Number(r.source))).toEqual([2, 4, 6]);
  });

  it('resumes where CHANGES ends after a restart, publishing nothing twice, and removes the old durable consumer', async () => {
    const before = (await stored()).length;
    await sync!.close();
    sync = undefined;
    // The durable consumer the feeder used to read META with, as an older sync left it.
    await jsm.consumers.add(meta.streamName('META'), { durable_name: meta.durableName(LEGACY_CHANGE_FEED_DURABLE), ack_policy: AckPolicy.Explicit, filter_subject: meta.prefix('meta.object.>') });
    sync = await bootForTest(SyncService, ns);
    const feeder = sync.app.get(ChangeFeeder);

    const keyId = 'b'.repeat(64);
    const tagged = await append(meta.object('feed.int', keyId), envelope('ObjectTagsSet', { bucket: 'feed.int', key: 'other', keyId, versionId: 'v9', tags: [{ key: 't', value: '1' }] }));
    const records = await eventually(async () => {
      const all = await stored();
      return all.length >= before + 1 ? all : undefined;
    }, 20_000);
    expect(records).toHaveLength(before + 1);
    expect(records[records.length - 1].record).toMatchObject({ type: 'object.tags', key: 'other', tags: [{ key: 't', value: '1' }] });
    expect(Number(records[records.length - 1].source)).toBe(tagged);
    expect(feeder.status()).toMatchObject({ name: 'sync-change-feed', progress: { doneItems: 1 } });
    await expect(jsm.consumers.info(meta.streamName('META'), meta.durableName(LEGACY_CHANGE_FEED_DURABLE))).rejects.toThrow();
  });

  it('writes every record once and in META order while two sync instances feed at once', async () => {
    const second = await bootForTest(SyncService, ns, { CAIRN_INSTANCE: 'sync-test-2' });
    try {
      const before = (await stored()).length;
      const appended: number[] = [];
      for (let i = 0; i < 150; i++) {
        const keyId = (i % 7).toString(16).repeat(64);
        appended.push(await append(meta.object('feed.int', keyId), envelope('ObjectTagsSet', { bucket: 'feed.int', key: `two/${i}`, keyId, versionId: `v${i}`, tags: [] })));
      }
      const records = await eventually(async () => {
        const all = await stored();
        return all.length >= before + appended.length ? all : undefined;
      }, 30_000);
      const fed = records.slice(before);
      expect(fed.map((r) => Number(r.source))).toEqual(appended);
      expect(fed.map((r) => r.record.key)).toEqual(appended.map((_, i) => `two/${i}`));
    } finally {
      await second.close();
    }
  });

  it('publishes nothing out of order when CHANGES refuses writes part way, and everything once it takes them again', async () => {
    const before = (await stored()).length;
    const config = (await jsm.streams.info(changes.stream)).config;
    // CHANGES full: three more records fit, the rest are refused until the limit is lifted.
    await jsm.streams.update(changes.stream, { ...config, max_msgs: before + 3, discard: DiscardPolicy.New });
    const appended: number[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const keyId = 'c'.repeat(64);
        appended.push(await append(meta.object('feed.int', keyId), envelope('ObjectTagsSet', { bucket: 'feed.int', key: `full/${i}`, keyId, versionId: `f${i}`, tags: [] })));
      }
      const feeder = sync!.app.get(ChangeFeeder);
      await eventually(() => (feeder.status().lastError?.match(/maximum messages/i) ? true : undefined), 20_000);
      const held = (await stored()).slice(before);
      expect(held.map((r) => Number(r.source))).toEqual(appended.slice(0, 3));
    } finally {
      await jsm.streams.update(changes.stream, { ...config, max_msgs: -1, discard: config.discard });
    }
    const records = await eventually(async () => {
      const all = await stored();
      return all.length >= before + appended.length ? all : undefined;
    }, 30_000);
    expect(records.slice(before).map((r) => Number(r.source))).toEqual(appended);
  });

  it('holds the feed at an event of a newer schema than it knows, publishing nothing after it', async () => {
    const before = (await stored()).length;
    const keyId = 'd'.repeat(64);
    const fine = await append(meta.object('feed.int', keyId), envelope('ObjectTagsSet', { bucket: 'feed.int', key: 'before-newer', keyId, versionId: 'n1', tags: [] }));
    const newer = await append(meta.object('feed.int', keyId), envelope('ObjectTagsSet', { bucket: 'feed.int', key: 'newer', keyId, versionId: 'n2', tags: [] }, { schemaVersion: 99 }));
    await append(meta.object('feed.int', keyId), envelope('ObjectTagsSet', { bucket: 'feed.int', key: 'after-newer', keyId, versionId: 'n3', tags: [] }));
    const feeder = sync!.app.get(ChangeFeeder);
    await eventually(() => (feeder.status().lastError?.includes(`#${newer}`) ? true : undefined), 20_000);
    const records = (await stored()).slice(before);
    expect(records.map((r) => Number(r.source))).toEqual([fine]);
  });
});
