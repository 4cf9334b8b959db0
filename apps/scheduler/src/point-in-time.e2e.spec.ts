import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { eventually } from '@cairn/testing';
import type { RestoreReport } from './point-in-time/restore.queue';
import { TestRegion } from './testing/region.e2e-helper';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Reading the past and restoring it, against a whole region of real processes (metadata, a
 * lock-manager, three storage nodes, an S3 gateway, the scheduler): docs/backups.md.
 */
describe('point in time: reading the past and restoring it', () => {
  // Garbage collection would take an unreferenced chunk after a second; the restore window (7 days by default) keeps it.
  const region = new TestRegion({ CAIRN_SWEEP_INTERVAL_MS: '2000', CAIRN_GC_GRACE_MS: '1000' });
  const bodies = new Map<string, Buffer>();
  let beforeScript = '';

  const adminGet = async (url: string) => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${region.operatorToken}` } });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  };

  beforeAll(async () => {
    await region.start(3);
    await region.startScheduler('scheduler-1');
    await region.s3.send(new CreateBucketCommand({ Bucket: 'pitr' }));
    await region.s3.send(new CreateBucketCommand({ Bucket: 'pitr-copy' }));
    // Small ones live inline in metadata, large ones in several 1 MiB chunks on the nodes.
    for (let i = 0; i < 12; i++) {
      const body = randomBytes(i % 3 === 0 ? 2 * MiB + 123 : i % 3 === 1 ? 40 * KiB : 3 * KiB);
      bodies.set(`docs/${i}`, body);
      await region.put('pitr', `docs/${i}`, body);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    beforeScript = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // The script: every object deleted, one overwritten with other bytes first, one new key.
    await region.put('pitr', 'docs/1', randomBytes(5 * KiB));
    for (const key of bodies.keys()) await region.delete('pitr', key);
    await region.put('pitr', 'stray', randomBytes(1 * KiB));
  }, 180_000);

  afterAll(() => region.stop(), 60_000);

  it('lists the bucket as it was before the script, from the admin API with ?at=', async () => {
    const url = `${region.metadataUrl}/admin/buckets/pitr/objects?at=${encodeURIComponent(beforeScript)}`;
    const res = await adminGet(url);
    expect(res.status).toBe(200);
    const listing = JSON.parse(res.bytes.toString()) as { objects: { key: string; sizeBytes: number }[]; nextAfter: string | null };
    expect(listing.objects.map((o) => o.key)).toEqual([...bodies.keys()].sort());
    expect(listing.objects.map((o) => o.sizeBytes)).toEqual([...bodies.keys()].sort().map((k) => bodies.get(k)!.length));
    const now = JSON.parse((await adminGet(`${region.metadataUrl}/admin/buckets/pitr/objects?at=${encodeURIComponent(new Date().toISOString())}`)).bytes.toString()) as { objects: { key: string }[] };
    expect(now.objects.map((o) => o.key)).toEqual(['stray']);
    // Before the bucket existed, and a malformed moment: client errors.
    expect((await adminGet(`${region.metadataUrl}/admin/buckets/pitr/objects?at=2001-01-01T00:00:00Z`)).status).toBe(404);
    expect((await adminGet(`${region.metadataUrl}/admin/buckets/pitr/objects?at=yesterday`)).status).toBe(400);
    expect((await fetch(url)).status).toBe(401);
  });

  it('reads an object deleted since, byte for byte, as of the moment', async () => {
    for (const key of ['docs/0', 'docs/1', 'docs/2']) {
      const res = await adminGet(`${region.scheduler().url}/admin/history/buckets/pitr/object?key=${encodeURIComponent(key)}&at=${encodeURIComponent(beforeScript)}`);
      expect(res.status).toBe(200);
      expect(res.bytes.equals(bodies.get(key)!)).toBe(true);
    }
    const missing = await adminGet(`${region.scheduler().url}/admin/history/buckets/pitr/object?key=stray&at=${encodeURIComponent(beforeScript)}`);
    expect(missing.status).toBe(404);
  });

  const restore = async (body: Record<string, string>): Promise<RestoreReport> => {
    const queued = await region.admin<RestoreReport>('POST', '/admin/restore', body);
    expect(queued.status).toBe(202);
    let last: unknown = null;
    return eventually(async () => {
      const r = await region.admin<RestoreReport>('GET', `/admin/restore/${queued.body.id}`);
      last = r.body;
      return r.body.state === 'done' || r.body.state === 'failed' ? r.body : undefined;
    }, 60_000, 250).catch((error: Error) => {
      throw new Error(`${error.message}\nlast report: ${JSON.stringify(last)}\nscheduler log:\n${region.scheduler().output().slice(-6000)}`);
    });
  };

  it('garbage collection keeps the chunks the script released, and says what that costs', async () => {
    // Every copy of the released chunks of the 2 MiB and 40 KiB objects (three nodes each).
    const released = [...bodies.values()].filter((b) => b.length > 16 * KiB).reduce((sum, b) => sum + b.length, 0);
    const window = await eventually(async () => {
      await region.admin('POST', '/admin/sweep');
      const r = await region.admin<{ windowMs: number; retainedBytes: number | null }>('GET', '/admin/restore-window');
      return (r.body.retainedBytes ?? 0) >= released * 3 ? r.body : undefined;
    }, 60_000, 1_000);
    expect(window.windowMs).toBe(7 * 86_400_000);
    const metrics = await (await fetch(`${region.scheduler().url}/metrics`, { headers: { authorization: `Bearer ${region.operatorToken}` } })).text();
    expect(metrics.split('\n').filter((l) => l.startsWith('cairn_gc_restore_window_retained_bytes')).join('\n')).toMatch(/cairn_gc_restore_window_retained_bytes(\{[^}]*\})? [1-9]/);
  }, 90_000);

  it('a bucket emptied by a script comes back as it was the moment before, byte for byte, as new versions', async () => {
    const report = await restore({ bucket: 'pitr', at: beforeScript });
    expect(report).toMatchObject({ state: 'done', puts: bodies.size, deletes: 1, failures: 0, bytesCopied: 0 });
    expect(report.progress.doneItems).toBe(report.progress.totalItems);
    const listed = await region.s3.send(new ListObjectsV2Command({ Bucket: 'pitr' }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([...bodies.keys()].sort());
    for (const [key, body] of bodies) expect((await region.get('pitr', key)).equals(body)).toBe(true);
    // Restoring again changes nothing: every key already is as it was.
    expect(await restore({ bucket: 'pitr', at: beforeScript })).toMatchObject({ state: 'done', puts: 0, deletes: 0, failures: 0 });
  }, 150_000);

  it('restores a prefix into another bucket, leaving the source alone', async () => {
    const report = await restore({ bucket: 'pitr', at: beforeScript, prefix: 'docs/1', to: 'pitr-copy' });
    // docs/1, docs/10, docs/11
    expect(report).toMatchObject({ state: 'done', puts: 3, failures: 0 });
    for (const key of ['docs/1', 'docs/10', 'docs/11']) expect((await region.get('pitr-copy', key)).equals(bodies.get(key)!)).toBe(true);
    const versions = await region.s3.send(new ListObjectVersionsCommand({ Bucket: 'pitr-copy' }));
    expect((versions.Versions ?? []).length).toBe(3);
  }, 90_000);
});
