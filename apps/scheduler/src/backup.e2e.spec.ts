import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { METADATA_SERVICE, MetadataRpc, type CreateAccessKeyReply } from '@cairn/protocol';
import { eventually } from '@cairn/testing';
import type { BackupManifest } from './backup/backup-format';
import type { VerifyReport } from './backup/backup-verify';
import type { BackupReport } from './backup/backup.runner';
import type { RegionRestoreReport } from './backup/region-restore.runner';
import { E2E_ROOT_ACCESS_KEY, E2E_ROOT_SECRET_KEY, TestRegion } from './testing/region.e2e-helper';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Backups end to end (docs/backups.md), every component a real process: region A backs up to a
 * directory and to an S3 target (region B's gateway), incrementally; a backup killed with SIGKILL
 * mid-run is resumed by the next scheduler and completes consistent; then A is destroyed (streams,
 * tables, chunk directories: its namespace dropped) and an empty region C is restored from the S3
 * target: every version byte-identical, delete markers and bucket settings intact.
 */
describe('backups: incremental, resumable, restored into an empty region', () => {
  const a = new TestRegion({});
  const b = new TestRegion({});
  const c = new TestRegion({});
  let dir = '';
  /** key → versions oldest first (null: a delete marker). */
  const written = new Map<string, (Buffer | null)[]>();
  let firstBackup: BackupManifest;
  /** A user's key made before the first backup, and the object it wrote. */
  let aliceKey = { accessKeyId: '', secretAccessKey: '' };
  const portrait = randomBytes(KiB);
  const s3As = (endpoint: string, credentials: typeof aliceKey) => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });

  const runBackup = async (region: TestRegion, target: string, scheduler = 'scheduler-1'): Promise<BackupReport> => {
    const before = await region.admin<{ recent: BackupReport[] }>('GET', '/admin/backup/runs', undefined, scheduler);
    const seen = new Set(before.body.recent.map((r) => r.id));
    const queued = await region.admin('POST', '/admin/backup/run', { target }, scheduler);
    expect(queued.status).toBe(202);
    let failed: BackupReport | undefined;
    return eventually(async () => {
      const runs = await region.admin<{ recent: BackupReport[] }>('GET', '/admin/backup/runs', undefined, scheduler);
      failed = runs.body.recent.find((r) => r.target === target && !seen.has(r.id) && r.state === 'failed') ?? failed;
      return runs.body.recent.find((r) => r.target === target && !seen.has(r.id) && r.state === 'done');
    }, 120_000, 500).catch((error: Error) => {
      throw new Error(`${error.message}\nfailed run: ${JSON.stringify(failed)}\nscheduler log:\n${region.scheduler(scheduler).output().slice(-8000)}`);
    });
  };
  const manifests = async (region: TestRegion, target: string, scheduler = 'scheduler-1') => (await region.admin<{ backups: BackupManifest[] }>('GET', `/admin/backup/list?target=${target}`, undefined, scheduler)).body.backups;
  const verifyAll = async (region: TestRegion, target: string, scheduler = 'scheduler-1') => (await region.admin<VerifyReport>('POST', '/admin/backup/verify', { target, sample: 0 }, scheduler)).body;
  const put = async (region: TestRegion, key: string, body: Buffer) => {
    await region.put('data', key, body);
    written.set(key, [...(written.get(key) ?? []), body]);
  };
  const versionsOf = async (s3: S3Client) => {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'data' }));
    return {
      versions: (listed.Versions ?? []).map((v) => ({ key: v.Key, versionId: v.VersionId, etag: v.ETag, size: v.Size, latest: v.IsLatest })),
      markers: (listed.DeleteMarkers ?? []).map((m) => ({ key: m.Key, versionId: m.VersionId, latest: m.IsLatest })),
    };
  };

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-backup-e2e-'));
    // B takes the backups through its S3 gateway: three nodes, so STANDARD writes reach their copies.
    await Promise.all([a.start(3), b.start(3)]);
    await a.startScheduler('scheduler-1');
    await a.s3.send(new CreateBucketCommand({ Bucket: 'data' }));
    await a.s3.send(new PutBucketVersioningCommand({ Bucket: 'data', VersioningConfiguration: { Status: 'Enabled' } }));
    await a.s3.send(new PutBucketTaggingCommand({ Bucket: 'data', Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }] } }));
    await b.s3.send(new CreateBucketCommand({ Bucket: 'backups' }));
    // 20 objects of about 1 MiB (two chunks each) and 10 small ones; a second version of some, and a delete.
    for (let i = 0; i < 20; i++) await put(a, `big/${i}`, randomBytes(MiB + 100 * KiB));
    for (let i = 0; i < 10; i++) await put(a, `small/${i}`, randomBytes(2 * KiB));
    // Erasure-coded objects (2+1 on three nodes): their shards are what a backup copies and a restore puts back.
    for (let i = 0; i < 2; i++) {
      // Small beside the rest: the incremental case below measures 10% of the bytes.
      const cold = randomBytes(400 * KiB);
      await a.s3.send(new PutObjectCommand({ Bucket: 'data', Key: `cold/${i}`, Body: cold, StorageClass: 'STANDARD_IA' }));
      written.set(`cold/${i}`, [cold]);
    }
    await put(a, 'small/0', randomBytes(3 * KiB));
    await a.delete('data', 'small/1');
    written.set('small/1', [...written.get('small/1')!, null]);
    // A user and their access key (events on META, like buckets and policies), and a bucket of theirs.
    const created = await a.rpc.request<CreateAccessKeyReply>(METADATA_SERVICE, MetadataRpc.createAccessKey, { owner: 'alice' });
    aliceKey = { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
    const alice = s3As(a.accessUrl, aliceKey);
    await eventually(() => alice.send(new CreateBucketCommand({ Bucket: 'alice-photos' })).then(() => true, () => undefined), 30_000, 250);
    await alice.send(new PutObjectCommand({ Bucket: 'alice-photos', Key: 'portrait', Body: portrait }));
    alice.destroy();
  }, 240_000);

  afterAll(async () => {
    // What each scheduler said, for a failure's post-mortem (CAIRN_E2E_LOG_DIR).
    const logDir = process.env['CAIRN_E2E_LOG_DIR'];
    if (logDir) {
      for (const [name, region] of [['a', a], ['c', c]] as const) {
        for (const [instance, scheduler] of region.schedulers) await fsp.writeFile(path.join(logDir, `backup-e2e-${name}-${instance}.log`), scheduler.output()).catch(() => undefined);
      }
    }
    // a is stopped by the last test already (stopping twice is harmless, but its errors are not the point here).
    await Promise.all([a.stop().catch(() => undefined), b.stop(), c.stop()]);
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('backs up to a directory and to an S3 target, complete and verified; the S3 secret is sealed at rest', async () => {
    expect((await a.admin('POST', '/admin/backup/targets', { name: 'local', kind: 'dir', path: path.join(dir, 'local') })).status).toBe(201);
    const s3Target = { name: 'offsite', kind: 's3', endpoint: b.accessUrl, bucket: 'backups', prefix: 'region-a', accessKeyId: E2E_ROOT_ACCESS_KEY, secretAccessKey: E2E_ROOT_SECRET_KEY };
    expect((await a.admin('POST', '/admin/backup/targets', s3Target)).status).toBe(201);
    const listed = await a.admin<{ targets: Record<string, unknown>[] }>('GET', '/admin/backup/targets');
    expect(JSON.stringify(listed.body)).not.toContain(E2E_ROOT_SECRET_KEY);
    expect(listed.body.targets.find((t) => t['name'] === 'offsite')).toMatchObject({ hasSecret: true });

    for (const target of ['local', 'offsite']) {
      const report = await runBackup(a, target);
      expect(report.events.done).toBe(report.events.total);
      const [manifest] = await manifests(a, target);
      expect(manifest.cutSequence).toBe(report.cutSequence);
      // Every chunk of the 20 big objects (40) and the shards of the 2 cold ones (2 × 3), no duplicates.
      expect(manifest.chunks.copied).toBe(46);
      const verified = await verifyAll(a, target);
      expect(verified).toMatchObject({ ok: true, chunksChecked: 46, chunksMissing: [], chunksCorrupt: [], segmentsBad: [] });
      if (target === 'local') firstBackup = manifest;
    }
  }, 240_000);

  it('an incremental backup after 10% of the bytes changed copies about 10% of them', async () => {
    for (let i = 0; i < 2; i++) await put(a, `big/${i}`, randomBytes(MiB + 100 * KiB));
    const report = await runBackup(a, 'local');
    const latest = (await manifests(a, 'local')).at(-1)!;
    expect(latest.previousId).toBe(firstBackup.id);
    expect(latest.newEvents).toBe(2);
    const ratio = latest.chunks.copiedBytes / firstBackup.chunks.copiedBytes;
    expect(ratio).toBeGreaterThan(0.08);
    expect(ratio).toBeLessThan(0.12);
    expect(report.chunksAlreadyThere).toBe(0);
    expect((await verifyAll(a, 'local')).ok).toBe(true);
  }, 120_000);

  it('a backup killed with SIGKILL mid-run is resumed by the next scheduler and completes consistent', async () => {
    // A slow target (2 MiB/s): the first backup to it takes about 25 s.
    await a.admin('POST', '/admin/backup/targets', { name: 'slow', kind: 'dir', path: path.join(dir, 'slow'), bytesPerSecond: 2 * MiB });
    await a.admin('POST', '/admin/backup/run', { target: 'slow' });
    await eventually(async () => {
      const runs = await a.admin<{ running: BackupReport | null }>('GET', '/admin/backup/runs');
      return runs.body.running?.target === 'slow' && runs.body.running.chunks.doneItems >= 5 ? true : undefined;
    }, 60_000, 200);
    const killed = a.scheduler('scheduler-1').child;
    const exited = new Promise((resolve) => killed.once('exit', resolve));
    killed.kill('SIGKILL');
    await exited;
    // Nothing complete in the target yet: a progress file, no manifest before every chunk is there.
    const [started] = await fsp.readdir(path.join(dir, 'slow', 'backups'));
    expect((await fsp.readdir(path.join(dir, 'slow', 'backups', started))).sort()).toEqual(['progress.json']);
    await a.startScheduler('scheduler-2');
    const resumed = await eventually(async () => {
      const runs = await a.admin<{ recent: BackupReport[] }>('GET', '/admin/backup/runs', undefined, 'scheduler-2');
      return runs.body.recent.find((r) => r.target === 'slow' && r.state === 'done');
    }, 180_000, 1_000);
    expect(resumed.resumed).toBe(true);
    // It copied only what the killed run had not (50 chunks in all: 20 objects, 2 of them with a second version, and 6 shards).
    expect(resumed.chunks.totalItems).toBeLessThan(50);
    const verified = await verifyAll(a, 'slow', 'scheduler-2');
    expect(verified).toMatchObject({ ok: true, chunksChecked: 50 });
  }, 300_000);

  it('retention prunes old backups and sweeps from the target the chunks only they needed', async () => {
    // big/5's only version deleted for good: its two chunks are referenced by no version any more.
    const [version] = (await a.s3.send(new ListObjectVersionsCommand({ Bucket: 'data', Prefix: 'big/5' }))).Versions ?? [];
    const referencedBefore = new Set((await a.references()).map((r) => r.hash));
    await a.s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'big/5', VersionId: version.VersionId }));
    written.delete('big/5');
    const referencedNow = new Set((await a.references()).map((r) => r.hash));
    const released = [...referencedBefore].filter((h) => !referencedNow.has(h));
    expect(released).toHaveLength(2);

    // A target keeping one backup. Its first backup copies every chunk the log names (the released
    // ones too: the nodes still hold them); the next one's span begins after the delete.
    const rotating = path.join(dir, 'rotating');
    expect((await a.admin('POST', '/admin/backup/targets', { name: 'rotating', kind: 'dir', path: rotating, everySeconds: 30 * 86_400, keep: 1 }, 'scheduler-2')).status).toBe(201);
    await runBackup(a, 'rotating', 'scheduler-2');
    await put(a, 'small/after-delete', randomBytes(KiB));
    await runBackup(a, 'rotating', 'scheduler-2');
    const chunkFiles = async () => new Set((await fsp.readdir(path.join(rotating, 'chunks'), { recursive: true })).map((f) => path.basename(String(f))));
    const swept = await eventually(async () => {
      const [kept, running] = [await manifests(a, 'rotating', 'scheduler-2'), (await a.admin<{ running: BackupReport | null }>('GET', '/admin/backup/runs', undefined, 'scheduler-2')).body.running];
      const files = await chunkFiles();
      return kept.length === 1 && running === null && released.every((h) => !files.has(h)) ? files : undefined;
    }, 60_000, 500);
    expect(a.scheduler('scheduler-2').output()).toMatch(/swept the chunks of rotating: [1-9]\d* of \d+ deleted/);
    // What the surviving backup needs is all still there.
    expect(await verifyAll(a, 'rotating', 'scheduler-2')).toMatchObject({ ok: true, chunksMissing: [] });
    expect(swept.size).toBeGreaterThan(0);
  }, 180_000);

  it('the region destroyed, an empty region restored from the S3 target serves every version byte-identical, with its settings', async () => {
    // One more backup to the S3 target so it holds the latest state (incremental: 2 new events).
    await runBackup(a, 'offsite', 'scheduler-2');
    const expected = await versionsOf(a.s3);
    await a.stop();

    await c.start(3);
    await c.startScheduler('scheduler-1');
    const s3Target = { name: 'offsite', kind: 's3', endpoint: b.accessUrl, bucket: 'backups', prefix: 'region-a', accessKeyId: E2E_ROOT_ACCESS_KEY, secretAccessKey: E2E_ROOT_SECRET_KEY };
    expect((await c.admin('POST', '/admin/backup/targets', s3Target)).status).toBe(201);
    const queued = await c.admin<{ id: string }>('POST', '/admin/backup/restore', { target: 'offsite' });
    expect(queued.status).toBe(202);
    const report = await eventually(async () => {
      const r = await c.admin<RegionRestoreReport>('GET', `/admin/backup/restore/${queued.body.id}`);
      if (r.body?.state === 'failed') throw new Error(`region restore failed: ${r.body.error}`);
      return r.body?.state === 'done' ? r.body : undefined;
    }, 180_000, 500);
    expect(report.chunks.doneItems).toBe(report.chunks.totalItems);
    expect(report.events.done).toBe(report.events.total);

    expect(await versionsOf(c.s3)).toEqual(expected);
    for (const [key, versions] of written) {
      const ids = expected.versions.filter((v) => v.key === key).map((v) => v.versionId!).reverse();
      const bodies = versions.filter((v): v is Buffer => v !== null);
      expect(ids.length).toBe(bodies.length);
      for (let i = 0; i < ids.length; i++) {
        const res = await c.s3.send(new GetObjectCommand({ Bucket: 'data', Key: key, VersionId: ids[i] }));
        expect(Buffer.from(await res.Body!.transformToByteArray()).equals(bodies[i])).toBe(true);
      }
    }
    // The cold objects come back erasure-coded, as they were written.
    expect((await c.s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'cold/0' }))).StorageClass).toBe('STANDARD_IA');
    expect((await c.s3.send(new GetBucketVersioningCommand({ Bucket: 'data' }))).Status).toBe('Enabled');
    expect((await c.s3.send(new GetBucketTaggingCommand({ Bucket: 'data' }))).TagSet).toEqual([{ Key: 'team', Value: 'storage' }]);
    // The user's key made before the backup signs requests in the restored region, and owns its bucket there.
    const alice = s3As(c.accessUrl, aliceKey);
    const got = await alice.send(new GetObjectCommand({ Bucket: 'alice-photos', Key: 'portrait' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(portrait)).toBe(true);
    alice.destroy();
    // A region that has buckets is refused.
    const again = await c.admin<{ id: string }>('POST', '/admin/backup/restore', { target: 'offsite' });
    const refused = await eventually(async () => {
      const r = await c.admin<RegionRestoreReport>('GET', `/admin/backup/restore/${again.body.id}`);
      return r.body?.state === 'failed' ? r.body : undefined;
    }, 30_000, 250);
    expect(refused.error).toMatch(/already has buckets/);
  }, 400_000);
});
