import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { eventually } from '@cairn/testing';
import type { SweepReport } from './sweep/chunk-sweep';
import { E2E_CHUNK_SIZE_BYTES, TestRegion } from './testing/region.e2e-helper';

const NODES = ['storage-1', 'storage-2', 'storage-3'];
const BUCKET = 'one-copy';
const SWEEP_INTERVAL_MS = 2_000;

/**
 * A region whose every process is given CAIRN_REPLICATION_FACTOR=1, on three storage nodes: each
 * chunk is written once, to the node the ring names first, and the repair sweep, which restores
 * the copies metadata's references ask for, leaves it at one.
 */
describe('a region at replication factor 1', () => {
  const region = new TestRegion({ CAIRN_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS) }, { regionEnv: { CAIRN_REPLICATION_FACTOR: '1' } });

  beforeAll(async () => {
    await region.start(NODES.length);
    await region.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await region.startScheduler('scheduler-1');
  }, 120_000);

  afterAll(() => region.stop(), 60_000);

  it('writes each chunk of either replicated class once, on its ring replica, and full sweeps add no copy', async () => {
    const bodies = new Map([
      ['standard', randomBytes(3 * E2E_CHUNK_SIZE_BYTES + 17)],
      ['reduced', randomBytes(2 * E2E_CHUNK_SIZE_BYTES)],
    ]);
    await region.put(BUCKET, 'standard', bodies.get('standard')!);
    await region.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reduced', Body: bodies.get('reduced')!, StorageClass: 'REDUCED_REDUNDANCY' }));
    const writtenAt = new Date().toISOString();

    const references = await region.references();
    expect(references).toHaveLength(6);
    expect(references.every((r) => r.replicationFactor === 1)).toBe(true);
    expect([...(await region.copiesOfReferenced(NODES)).values()]).toEqual(references.map(() => 1));
    expect(await region.placementIsExact(NODES)).toBe(true);

    // Two sweeps that began after the writes, so one surveyed every chunk those writes stored.
    for (let sweeps = 0; sweeps < 2; sweeps++) {
      const after = sweeps === 0 ? writtenAt : new Date().toISOString();
      const sweep = await eventually(async () => {
        const jobs = await region.admin<{ sweep: { lastComplete?: SweepReport } }>('GET', '/admin/jobs');
        const last = jobs.body?.sweep?.lastComplete;
        return last && last.state === 'done' && last.startedAt > after ? last : undefined;
      }, 60_000, 250);
      expect(sweep.work.repair.totalItems).toBe(0);
      expect(sweep.work.rebalance.totalItems).toBe(0);
    }
    expect([...(await region.copiesOfReferenced(NODES)).values()]).toEqual(references.map(() => 1));
    for (const [key, body] of bodies) expect((await region.get(BUCKET, key)).equals(body)).toBe(true);
  }, 120_000);
});
