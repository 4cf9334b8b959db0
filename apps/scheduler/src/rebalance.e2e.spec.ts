import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { eventually, TEST_REDIS_URL } from '@cairn/testing';
import type { NodeAdminView } from './admin/node-admin.service';
import type { RebalancePlan } from './domain/rebalance-plan';
import type { SweepReport } from './sweep/chunk-sweep';
import { TestRegion } from './testing/region.e2e-helper';

const KiB = 1024;
const MiB = 1024 * KiB;
const OBJECTS = 64;
const OBJECT_BYTES = 512 * KiB;
const THROTTLE_BYTES_PER_SECOND = 4 * MiB;
/** The ETA promise: predicted total duration within this share of the actual one. */
const ETA_TOLERANCE = 0.2;
const REREPLICATE_AFTER_MS = 4_000;

interface JobsReply {
  readonly sweep: { readonly running: SweepReport | null; readonly last: SweepReport | null; readonly lastComplete: SweepReport | null };
}

/**
 * Membership changes move data, throttled, with reads working throughout and an honest ETA:
 * a fourth node joins (a quarter of the copies move to it) while the scheduler running the move
 * is killed and restarted; then a node is drained and removed. Two scheduler instances run all
 * along and never sweep at once.
 */
describe('scheduler: rebalance on node add, drain and remove', () => {
  const region = new TestRegion({
    CAIRN_SWEEP_INTERVAL_MS: '3000',
    CAIRN_REPAIR_BYTES_PER_SECOND: String(THROTTLE_BYTES_PER_SECOND),
    CAIRN_GC_GRACE_MS: String(3_600_000),
    CAIRN_REREPLICATE_AFTER_MS: String(REREPLICATE_AFTER_MS),
  });
  const bodies = new Map<string, Buffer>();
  const ALL = ['storage-1', 'storage-2', 'storage-3', 'storage-4'];

  beforeAll(async () => {
    await region.start(3);
    await Promise.all([region.startScheduler('scheduler-1'), region.startScheduler('scheduler-2')]);
    await region.s3.send(new CreateBucketCommand({ Bucket: 'move' }));
    for (let i = 0; i < OBJECTS; i++) {
      const body = randomBytes(OBJECT_BYTES);
      bodies.set(`o/${i}`, body);
      await region.put('move', `o/${i}`, body);
    }
  }, 180_000);

  afterAll(() => region.stop(), 60_000);

  const readEverything = async () => {
    for (const [key, body] of bodies) expect((await region.get('move', key)).equals(body)).toBe(true);
  };

  const jobs = async (instance: string) => (await region.admin<JobsReply>('GET', '/admin/jobs', undefined, instance)).body;
  const alive = () => [...region.schedulers.entries()].filter(([, s]) => s.child.exitCode === null && s.child.signalCode === null).map(([i]) => i);

  it('refuses to drain a node when fewer nodes than the replication factor would remain, and malformed admin requests with 400', async () => {
    const refused = await region.admin<{ code: string }>('POST', '/admin/nodes/storage-1/drain');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('NODE_DRAIN_UNDER_REPLICATES');
    for (const [method, url, body] of [
      ['POST', '/admin/scrub', { nodeIds: 'storage-1' }],
      ['POST', '/admin/nodes', { nodeId: 'a.b', address: 'ftp://x', zone: 'Z', weight: 0 }],
      ['PATCH', '/admin/nodes/storage-1', { weight: 'heavy' }],
      ['GET', '/admin/plan?change=teleport&nodeId=storage-1', undefined],
      ['DELETE', '/admin/nodes/storage-1?force=perhaps', undefined],
    ] as const) {
      const res = await region.admin<{ code: string }>(method, url, body);
      expect([method, url, res.status]).toEqual([method, url, 400]);
    }
    expect((await region.admin('DELETE', '/admin/nodes/nobody')).status).toBe(404);
  });

  it('a fourth node gets about a quarter of the copies, as planned, with reads working throughout and the scheduler killed mid-move', async () => {
    const plan = await region.admin<RebalancePlan>('GET', '/admin/plan?change=add&nodeId=storage-4&zone=zone-1&host=storage-4&weight=1');
    expect(plan.status).toBe(200);
    expect(plan.body.chunksExamined).toBe(OBJECTS);
    const plannedShare = plan.body.bytesToCopy / (plan.body.bytesExamined * 3);
    expect(plannedShare).toBeGreaterThan(0.15);
    expect(plannedShare).toBeLessThan(0.35);
    for (const node of plan.body.nodes) {
      if (node.nodeId === 'storage-4') expect(node).toMatchObject({ receiveBytes: plan.body.bytesToCopy, releaseBytes: 0 });
      else expect(node).toMatchObject({ receiveBytes: 0 });
    }
    expect(plan.body.estimatedSeconds).toBeCloseTo(plan.body.bytesToCopy / THROTTLE_BYTES_PER_SECOND, 1);

    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        await readEverything();
        reads++;
      }
    })();
    try {
      await region.startNode('storage-4');
      // Kill whichever instance runs the move once it is under way, then bring it back.
      const running = await eventually(async () => {
        for (const instance of alive()) {
          const r = (await jobs(instance)).sweep.running;
          if (r && r.state === 'working' && r.work.rebalance.doneBytes > 0) return r;
        }
        return undefined;
      }, 60_000, 100);
      const victim = region.schedulers.get(running.instance)!;
      victim.child.kill('SIGKILL');
      await new Promise((resolve) => victim.child.once('exit', resolve));
      await region.startScheduler(running.instance);

      await eventually(() => region.placementIsExact(ALL), 120_000, 1_000);
    } finally {
      reading = false;
      await reader;
    }
    expect(reads).toBeGreaterThan(0);
    const onNew = (await region.held('storage-4')).size;
    // Each chunk has three copies on four nodes: the new one holds about a quarter of them.
    expect(onNew / (OBJECTS * 3)).toBeGreaterThan(0.15);
    expect(onNew / (OBJECTS * 3)).toBeLessThan(0.35);
    expect(onNew * OBJECT_BYTES).toBe(plan.body.bytesToCopy);
  }, 240_000);

  it('draining a node moves its data away at the throttle with an honest ETA; it can be removed only once empty, and nothing is lost', async () => {
    const instance = alive()[0];
    const drained = await region.admin('POST', '/admin/nodes/storage-1/drain', undefined, instance);
    expect(drained.status).toBe(200);
    const early = await region.admin<{ code: string }>('DELETE', '/admin/nodes/storage-1', undefined, instance);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('NODE_NOT_EMPTY');

    // Follow the sweep that moves the drained node's data, sampling its ETA at 25, 50 and 75%.
    const samples: { fraction: number; elapsedMs: number; etaSeconds: number }[] = [];
    const sampled = new Set<number>();
    let moveId: string | null = null;
    const deadline = Date.now() + 120_000;
    let finished: SweepReport | null = null;
    while (!finished && Date.now() < deadline) {
      for (const i of alive()) {
        const { running, lastComplete } = (await jobs(i)).sweep;
        if (running && running.state === 'working' && running.work.rebalance.totalBytes > 0) {
          moveId ??= running.id;
          const w = running.work.rebalance;
          const target = [0.25, 0.5, 0.75].find((t) => !sampled.has(t) && w.doneBytes / w.totalBytes >= t);
          if (running.id === moveId && target !== undefined && w.etaSeconds !== null && w.doneBytes < w.totalBytes) {
            sampled.add(target);
            samples.push({ fraction: w.doneBytes / w.totalBytes, elapsedMs: w.elapsedMs, etaSeconds: w.etaSeconds });
          }
        }
        if (moveId && lastComplete?.id === moveId) finished = lastComplete;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(finished).not.toBeNull();
    const actualMs = finished!.work.rebalance.elapsedMs;
    expect(samples.length).toBeGreaterThanOrEqual(3);
    for (const s of samples) {
      const predictedMs = s.elapsedMs + s.etaSeconds * 1000;
      expect(Math.abs(predictedMs - actualMs) / actualMs).toBeLessThanOrEqual(ETA_TOLERANCE);
    }
    // The move ran at the throttle.
    const rate = finished!.work.rebalance.doneBytes / (actualMs / 1000);
    expect(rate).toBeLessThanOrEqual(THROTTLE_BYTES_PER_SECOND * 1.1);

    await eventually(async () => ((await region.held('storage-1')).size === 0 ? true : undefined), 60_000, 500);
    const removed = await eventually(async () => {
      const res = await region.admin('DELETE', '/admin/nodes/storage-1', undefined, instance);
      return res.status === 200 ? res : undefined;
    }, 30_000, 1_000);
    expect(removed.status).toBe(200);
    const nodes = await region.admin<{ nodes: NodeAdminView[] }>('GET', '/admin/nodes', undefined, instance);
    expect(nodes.body.nodes.map((n) => n.nodeId).sort()).toEqual(['storage-2', 'storage-3', 'storage-4']);
    await region.stopNode('storage-1');

    expect(await region.placementIsExact(['storage-2', 'storage-3', 'storage-4'])).toBe(true);
    await readEverything();
  }, 240_000);

  it('a node that stays unreachable has its chunks copied elsewhere; when it is back, the stand-in copies go', async () => {
    await region.startNode('storage-5');
    const live = ['storage-2', 'storage-3', 'storage-4', 'storage-5'];
    await eventually(() => region.placementIsExact(live), 120_000, 1_000);

    const downAt = Date.now();
    await region.stopNode('storage-2');
    const survivors = ['storage-3', 'storage-4', 'storage-5'];
    await eventually(async () => {
      const copies = await region.copiesOfReferenced(survivors);
      return [...copies.values()].every((c) => c === 3) ? true : undefined;
    }, 120_000, 1_000);
    // Not before the node had been unreachable for the configured delay.
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(REREPLICATE_AFTER_MS);
    await readEverything();

    await region.startNode('storage-2');
    await eventually(() => region.placementIsExact(live), 120_000, 1_000);
    await readEverything();
  }, 300_000);

  it('two scheduler instances never ran a sweep at the same time', async () => {
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('sweep', { connection, prefix: `cairn:${region.namespace}:bull` });
    try {
      const done = (await queue.getJobs(['completed'], 0, 1_000))
        .map((j) => j.returnvalue as SweepReport | { skipped: string })
        .filter((r): r is SweepReport => 'startedAt' in r && r.finishedAt !== undefined)
        .map((r) => ({ instance: r.instance, start: Date.parse(r.startedAt), end: Date.parse(r.finishedAt!) }))
        .sort((a, b) => a.start - b.start);
      expect(done.length).toBeGreaterThan(3);
      for (let i = 1; i < done.length; i++) expect(done[i].start).toBeGreaterThanOrEqual(done[i - 1].end);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
