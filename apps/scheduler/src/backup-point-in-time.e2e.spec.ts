import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { NatsConnectionManager } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, subjectsFor, type ChunkRef, type HeadObjectReply } from '@cairn/protocol';
import { eventually, TEST_NATS_URL } from '@cairn/testing';
import { BackupKeys, type BackupManifest } from './backup/backup-format';
import type { BackupReport } from './backup/backup.runner';
import type { RestoreReport } from './point-in-time/restore.queue';
import { chunkFileOf, TestRegion } from './testing/region.e2e-helper';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Point-in-time restore from a backup where the live event log no longer reaches (docs/backups.md),
 * every component a real process: a bucket is backed up, changed, its released chunks collected
 * (a restore window of two seconds), and META's events up to the backup's cut purged from the
 * stream. A restore to a moment before the trim reads the bucket's history from the backup and
 * copies the collected chunks back from it; a moment after the cut joins the backup's events with
 * the live log's; a moment neither reaches is refused, saying what can be restored. An
 * erasure-coded object (STANDARD_IA, 2+1 on three nodes) is read at a live moment with a shard lost
 * from the nodes, and at the backup-only moment from its shards in the target, one of them missing.
 */
describe('point in time from a backup, where the live log no longer reaches', () => {
  const region = new TestRegion({ CAIRN_SWEEP_INTERVAL_MS: '2000', CAIRN_GC_GRACE_MS: '1000', CAIRN_RESTORE_WINDOW: '2s' });
  const nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace: region.namespace, region: 'region-1', serviceName: 'e2e', instance: 'e2e-trim' });
  const stream = subjectsFor(region.namespace).streamName('META');
  let dir = '';
  const before = new Map<string, Buffer>();
  const after = new Map<string, Buffer>();
  let moment = '';
  let manifest: BackupManifest;
  /** The erasure-coded object's chunks, and its history GET at the moment while the live log was whole (a shard gone from the nodes). */
  let coldChunks: readonly (ChunkRef & { readonly erasure: { readonly shards: readonly string[] } })[] = [];
  let coldLive = { status: 0, source: '', body: Buffer.alloc(0) };

  const restore = async (body: Record<string, string>): Promise<RestoreReport> => {
    const queued = await region.admin<RestoreReport>('POST', '/admin/restore', body);
    if (queued.status !== 202) throw new Error(`restore refused: ${queued.status} ${JSON.stringify(queued.body)}`);
    let last: unknown = null;
    return eventually(async () => {
      const r = await region.admin<RestoreReport>('GET', `/admin/restore/${queued.body.id}`);
      last = r.body;
      return r.body.state === 'done' || r.body.state === 'failed' ? r.body : undefined;
    }, 90_000, 250).catch((error: Error) => {
      throw new Error(`${error.message}\nlast report: ${JSON.stringify(last)}\nscheduler log:\n${region.scheduler().output().slice(-6000)}`);
    });
  };
  const held = async () => {
    const sets = await Promise.all([...region.nodes.keys()].map((n) => region.held(n)));
    return new Set(sets.flatMap((s) => [...s]));
  };
  const keysOf = async (bucket: string) => ((await region.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);
  /** `cairn object get --at`'s request; a response cut off (the read failed after it began) comes back as status -1 with the error. */
  const historyGet = async (key: string, at: string) => {
    try {
      const res = await fetch(`${region.scheduler().url}/admin/history/buckets/album/object?key=${key}&at=${encodeURIComponent(at)}`, { headers: { authorization: `Bearer ${region.operatorToken}` } });
      return { status: res.status, source: res.headers.get('x-cairn-history-source') ?? '', body: Buffer.from(await res.arrayBuffer()) };
    } catch (error) {
      return { status: -1, source: '', body: Buffer.from(String(error)) };
    }
  };

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-backup-pitr-e2e-'));
    await region.start(3);
    await region.startScheduler('scheduler-1');
    await region.s3.send(new CreateBucketCommand({ Bucket: 'album' }));
    // Chunked ones on the nodes (2 MiB, 40 KiB), a small one inline in metadata.
    for (const [key, size] of [['a', 2 * MiB + 7], ['b', 40 * KiB], ['c', 3 * KiB], ['d', MiB + 5]] as const) {
      const body = randomBytes(size);
      before.set(key, body);
      await region.put('album', key, body);
    }
    // Erasure-coded: two chunks (1 MiB, 300 KiB), each a stripe of three shards.
    const cold = randomBytes(MiB + 300 * KiB);
    before.set('f', cold);
    await region.s3.send(new PutObjectCommand({ Bucket: 'album', Key: 'f', Body: cold, StorageClass: 'STANDARD_IA' }));
    coldChunks = (await region.rpc.request<HeadObjectReply>(METADATA_SERVICE, MetadataRpc.headObject, { bucket: 'album', key: 'f' })).chunks as typeof coldChunks;
    expect(coldChunks.map((c) => c.erasure?.shards.length)).toEqual([3, 3]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    moment = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // An event after the moment, so the backup's cut lies past it.
    await region.s3.send(new CreateBucketCommand({ Bucket: 'elsewhere' }));
    expect((await region.admin('POST', '/admin/backup/targets', { name: 'local', kind: 'dir', path: path.join(dir, 'local') })).status).toBe(201);
    const queued = await region.admin('POST', '/admin/backup/run', { target: 'local' });
    expect(queued.status).toBe(202);
    await eventually(async () => (await region.admin<{ recent: BackupReport[] }>('GET', '/admin/backup/runs')).body.recent.find((r) => r.state === 'done'), 120_000, 500);
    [manifest] = (await region.admin<{ backups: BackupManifest[] }>('GET', '/admin/backup/list?target=local')).body.backups;
    expect(Date.parse(manifest.cutAt)).toBeGreaterThan(Date.parse(moment));

    // While the live log is whole: the erasure-coded object read at the moment with its first data
    // shard gone from every node (a parity's worth lost), decoded from the other two.
    await Promise.all([...region.nodes.values()].map((n) => fsp.rm(chunkFileOf(n.dataDir, coldChunks[0].erasure.shards[0]), { force: true })));
    coldLive = await historyGet('f', moment);

    // After the backup: one overwritten, two deleted, one new. The chunks they released are collected.
    const referencedBefore = new Set((await region.references()).map((r) => r.hash));
    after.set('a', randomBytes(MiB + 11));
    await region.put('album', 'a', after.get('a')!);
    await region.delete('album', 'b');
    await region.delete('album', 'd');
    await region.delete('album', 'f');
    after.set('c', before.get('c')!);
    after.set('e', randomBytes(30 * KiB));
    await region.put('album', 'e', after.get('e')!);
    const referencedNow = new Set((await region.references()).map((r) => r.hash));
    const released = [...referencedBefore].filter((h) => !referencedNow.has(h));
    expect(released.length).toBeGreaterThanOrEqual(4);
    // Every shard of the erasure-coded object among them: after this, the nodes hold none of it.
    expect(coldChunks.flatMap((c) => c.erasure.shards).every((h) => released.includes(h))).toBe(true);
    await eventually(async () => {
      const onNodes = await held();
      return released.every((h) => !onNodes.has(h)) ? true : undefined;
    }, 60_000, 1_000);

    // The live log trimmed: every event up to the backup's cut purged from META.
    const jsm = await nats.jetstreamManager();
    await jsm.streams.purge(stream, { seq: manifest.cutSequence + 1 });
    expect((await jsm.streams.info(stream)).state.first_seq).toBe(manifest.cutSequence + 1);
    await region.s3.send(new CreateBucketCommand({ Bucket: 'album-then' }));
    await region.s3.send(new CreateBucketCommand({ Bucket: 'album-now' }));
  }, 300_000);

  afterAll(async () => {
    await nats.close();
    await region.stop();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('reads the past before the trim from the backup: the listing, and the bytes of objects whose chunks the region no longer holds', async () => {
    const at = encodeURIComponent(moment);
    const listing = await region.admin<{ objects: { key: string; sizeBytes: number }[]; source: { kind: string; backupId: string } }>('GET', `/admin/history/buckets/album/objects?at=${at}`);
    expect(listing.status).toBe(200);
    expect(listing.body.source).toMatchObject({ kind: 'backup', backupId: manifest.id });
    expect(listing.body.objects.map((o) => [o.key, o.sizeBytes])).toEqual([...before].map(([key, body]) => [key, body.length]));
    for (const key of ['b', 'd', 'f']) {
      const read = await historyGet(key, moment);
      expect(read.status).toBe(200);
      expect(read.source).toBe(`backup ${manifest.id}`);
      expect(read.body.equals(before.get(key)!)).toBe(true);
    }
    // A key that did not exist then: 404, as S3 would have answered.
    expect(await historyGet('e', moment)).toMatchObject({ status: 404 });
  }, 60_000);

  it('reads an erasure-coded object of a live moment with a shard lost from the nodes, decoding around it', () => {
    expect(coldLive.status).toBe(200);
    expect(coldLive.source).toBe('live');
    expect(coldLive.body.equals(before.get('f')!)).toBe(true);
  });

  it('reads an erasure-coded object of a backup-only moment from its shards in the target, decoding around one missing there too', async () => {
    // The nodes hold none of its shards (collected); the target lacks the first data shard of its first stripe.
    const onNodes = await held();
    expect(coldChunks.flatMap((c) => c.erasure.shards).some((h) => onNodes.has(h))).toBe(false);
    const shardFile = path.join(dir, 'local', BackupKeys.chunk(coldChunks[0].erasure.shards[0]));
    await fsp.rename(shardFile, `${shardFile}.aside`);
    try {
      const read = await historyGet('f', moment);
      expect(read).toMatchObject({ status: 200, source: `backup ${manifest.id}` });
      expect(read.body.equals(before.get('f')!)).toBe(true);
      // Two shards of a stripe gone (a parity's worth more than it has): refused, not wrong bytes.
      const second = path.join(dir, 'local', BackupKeys.chunk(coldChunks[0].erasure.shards[1]));
      await fsp.rename(second, `${second}.aside`);
      try {
        const broken = await historyGet('f', moment);
        expect(broken.status === 200 && broken.body.equals(before.get('f')!)).toBe(false);
      } finally {
        await fsp.rename(`${second}.aside`, second);
      }
    } finally {
      await fsp.rename(`${shardFile}.aside`, shardFile);
    }
  }, 60_000);

  it('restores a moment before the trim from the backup, copying back the chunks the region no longer holds', async () => {
    const report = await restore({ bucket: 'album', at: moment, to: 'album-then' });
    expect(report).toMatchObject({ state: 'done', puts: 5, deletes: 0, failures: 0, source: { kind: 'backup', target: 'local', backupId: manifest.id, liveFromSequence: null } });
    // a (3 chunks of 1 MiB), b and d (1 and 2), f's six shards: collected since, copied back from the target.
    expect(report.chunksCopied).toBeGreaterThanOrEqual(4 + 6);
    expect(report.bytesCopied).toBeGreaterThan(3 * MiB);
    expect(await keysOf('album-then')).toEqual(['a', 'b', 'c', 'd', 'f']);
    for (const [key, body] of before) expect((await region.get('album-then', key)).equals(body)).toBe(true);
    expect((await region.s3.send(new HeadObjectCommand({ Bucket: 'album-then', Key: 'f' }))).StorageClass).toBe('STANDARD_IA');
    // Again: nothing differs any more.
    expect(await restore({ bucket: 'album', at: moment, to: 'album-then' })).toMatchObject({ state: 'done', puts: 0, deletes: 0, failures: 0, chunksCopied: 0 });
  }, 180_000);

  it('a moment after the cut joins the backup with the live log after it', async () => {
    const report = await restore({ bucket: 'album', at: new Date().toISOString(), to: 'album-now' });
    expect(report).toMatchObject({ state: 'done', puts: 3, failures: 0, source: { kind: 'backup', liveFromSequence: manifest.cutSequence + 1 } });
    expect(await keysOf('album-now')).toEqual(['a', 'c', 'e']);
    for (const [key, body] of after) expect((await region.get('album-now', key)).equals(body)).toBe(true);
  }, 120_000);

  it('a moment neither the live log nor a backup reaches is refused, saying what can be restored', async () => {
    // Trim past the cut: the backup and the live log no longer meet.
    const jsm = await nats.jetstreamManager();
    const last = (await jsm.streams.info(stream)).state.last_seq;
    await jsm.streams.purge(stream, { seq: last });
    const refused = await region.admin<{ code?: string; message: string }>('POST', '/admin/restore', { bucket: 'album', at: new Date().toISOString(), to: 'album-now' });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/live event log was trimmed .*backups reach target local from the start of the log to /);
  }, 60_000);
});
