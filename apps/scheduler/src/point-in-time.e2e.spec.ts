import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { TestRegion } from './testing/region.e2e-helper';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Reading the past and restoring it, against a whole region of real processes (metadata, a
 * lock-manager, three storage nodes, an S3 gateway, the scheduler): docs/backups.md.
 */
describe('point in time: reading the past and restoring it', () => {
  const region = new TestRegion({});
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
});
