import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { eventually, signedFetch } from '@cairn/testing';
import type { ScrubNodeReport } from './scrub/scrub.queue';
import type { SweepReport } from './sweep/chunk-sweep';
import { chunkFileOf, sha256, TestRegion } from './testing/region.e2e-helper';

const NODES = ['storage-1', 'storage-2', 'storage-3'];
const SWEEP_INTERVAL_MS = 2_000;
const GC_GRACE_MS = 3_000;
const KiB = 1024;

/**
 * A region heals itself: metadata, a lock-manager, three storage nodes, an S3 gateway and the
 * scheduler, all real processes on real disks, one region for the whole file.
 */
describe('scheduler: a region that heals itself', () => {
  const region = new TestRegion({
    CAIRN_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
    CAIRN_GC_GRACE_MS: String(GC_GRACE_MS),
    // No point-in-time restore window here: garbage is collected after the grace alone.
    CAIRN_RESTORE_WINDOW: '0',
    CAIRN_SCRUB_TICK_MS: '500',
    CAIRN_SCRUB_PERIOD_MS: String(14 * 86_400_000),
  });

  beforeAll(async () => {
    await region.start(NODES.length);
    await region.startScheduler('scheduler-1');
    await region.s3.send(new CreateBucketCommand({ Bucket: 'heal' }));
  }, 120_000);

  afterAll(() => region.stop(), 60_000);

  const everyReferencedChunkOn = async (nodeIds: readonly string[], copies: number) => {
    const counts = await region.copiesOfReferenced(nodeIds);
    return [...counts.values()].every((c) => c === copies) ? counts : undefined;
  };

  it('a node stopped during 200 writes gets every chunk it missed back, without anyone asking; then it alone serves everything', async () => {
    const bodies = new Map<string, Buffer>();
    // Half of them small enough to live in pack files on the nodes, half in chunk files of their own.
    for (let i = 0; i < 200; i++) {
      const body = randomBytes(i % 2 === 0 ? 20 * KiB : 100 * KiB);
      const key = `missed/${i}`;
      bodies.set(key, body);
      if (i === 40) await region.stopNode('storage-3');
      await region.put('heal', key, body);
    }
    const missed = await region.copiesOfReferenced(['storage-1', 'storage-2']);
    expect([...missed.values()].every((c) => c === 2)).toBe(true);

    await region.startNode('storage-3');
    const started = Date.now();
    await eventually(() => everyReferencedChunkOn(NODES, 3), 60_000, 500);
    const healedInMs = Date.now() - started;
    // Within a few sweep intervals, far inside the 5 minutes the defaults promise.
    expect(healedInMs).toBeLessThan(30_000);

    await Promise.all([region.stopNode('storage-1'), region.stopNode('storage-2')]);
    try {
      for (const [key, body] of bodies) expect((await region.get('heal', key)).equals(body)).toBe(true);
    } finally {
      await Promise.all([region.startNode('storage-1'), region.startNode('storage-2')]);
    }
  }, 180_000);

  it('scrub finds a byte flipped in a chunk file and one in a pack file, replaces both with good copies, and reads never return bad bytes', async () => {
    const large = randomBytes(300 * KiB);
    const small = randomBytes(24 * KiB);
    await region.put('heal', 'scrub/large', large);
    await region.put('heal', 'scrub/small', small);
    const largeHash = sha256(large);
    const smallHash = sha256(small);
    await eventually(() => everyReferencedChunkOn(NODES, 3), 30_000, 500);

    // The chunk file on storage-1.
    const file = chunkFileOf(region.nodes.get('storage-1')!.dataDir, largeHash);
    const fh = await fsp.open(file, 'r+');
    const original = Buffer.alloc(1);
    await fh.read(original, 0, 1, 1000);
    await fh.write(Buffer.from([original[0] ^ 0x01]), 0, 1, 1000);
    await fh.close();
    // The small chunk inside a pack file on storage-2.
    const packDir = region.nodes.get('storage-2')!.dataDir;
    const flipped = await flipInPacks(packDir, small.subarray(0, 64));
    expect(flipped).toBe(true);

    // No reads until scrub has looked: a read would find the bad copy itself (and have it repaired).
    const started = await region.admin<{ started: string[] }>('POST', '/admin/scrub', {});
    expect(started.status).toBe(202);
    expect(started.body.started.sort()).toEqual(NODES);
    const corruptFound = async () => {
      const scrub = await region.admin<{ nodes: ScrubNodeReport[] }>('GET', '/admin/scrub');
      return scrub.body.nodes.reduce((sum, n) => sum + n.corruptFoundTotal, 0);
    };
    await eventually(async () => (await corruptFound()) >= 2, 60_000, 250);
    await eventually(
      async () => {
        const [one, two] = await Promise.all([nodeChunk(region, 'storage-1', largeHash), nodeChunk(region, 'storage-2', smallHash)]);
        return one?.equals(large) && two?.equals(small);
      },
      60_000,
      250,
    );
    for (let i = 0; i < 5; i++) {
      expect((await region.get('heal', 'scrub/large')).equals(large)).toBe(true);
      expect((await region.get('heal', 'scrub/small')).equals(small)).toBe(true);
    }
    const scrub = await region.admin<{ nodes: ScrubNodeReport[] }>('GET', '/admin/scrub');
    for (const node of scrub.body.nodes) {
      expect(node.progress).toEqual(expect.objectContaining({ doneBytes: expect.any(Number), totalBytes: expect.any(Number) }));
      expect(node.coverage.coveredFraction).toBeGreaterThan(0);
    }
    expect(await fsp.readdir(path.join(region.nodes.get('storage-1')!.dataDir, 'corrupt'))).toContainEqual(expect.stringContaining(largeHash));
  }, 120_000);

  it('garbage collection deletes the unshared chunks of deleted objects after the grace period, and keeps a chunk another object shares', async () => {
    const unshared = randomBytes(200 * KiB);
    const shared = randomBytes(200 * KiB);
    await region.put('heal', 'gc/unshared', unshared);
    await region.put('heal', 'gc/shared-a', shared);
    await region.put('heal', 'gc/shared-b', shared);
    await region.delete('heal', 'gc/unshared');
    await region.delete('heal', 'gc/shared-a');
    const deletedAt = Date.now();

    const gone = await eventually(
      async () => {
        const holders = await Promise.all(NODES.map((n) => region.held(n)));
        return holders.every((h) => !h.has(sha256(unshared))) ? Date.now() : undefined;
      },
      60_000,
      500,
    );
    expect(gone - deletedAt).toBeGreaterThanOrEqual(GC_GRACE_MS);
    const holders = await Promise.all(NODES.map((n) => region.held(n)));
    expect(holders.every((h) => h.has(sha256(shared)))).toBe(true);
    expect((await region.get('heal', 'gc/shared-b')).equals(shared)).toBe(true);

    const jobs = await region.admin<{ sweep: { lastComplete: SweepReport } }>('GET', '/admin/jobs');
    expect(jobs.status).toBe(200);
    expect(jobs.body.sweep.lastComplete.state).toBe('done');
  }, 120_000);

  it('a PUT of the same content racing garbage collection never loses data (many rounds)', async () => {
    const rounds = 12;
    const bodies = Array.from({ length: rounds }, () => randomBytes(40 * KiB));
    // Each body's chunk becomes garbage: put then deleted, so GC will come for it.
    for (let i = 0; i < rounds; i++) {
      await region.put('heal', `race/${i}`, bodies[i]);
      await region.delete('heal', `race/${i}`);
    }
    // Put each back at staggered moments around the grace period, while sweeps keep running.
    const stepMs = (GC_GRACE_MS + 2 * SWEEP_INTERVAL_MS) / rounds;
    await Promise.all(
      bodies.map(async (body, i) => {
        await new Promise((r) => setTimeout(r, i * stepMs));
        await region.put('heal', `race/${i}`, body);
      }),
    );
    // Long enough for every chunk to have been judged by GC at least twice more.
    await new Promise((r) => setTimeout(r, GC_GRACE_MS + 3 * SWEEP_INTERVAL_MS));
    for (let i = 0; i < rounds; i++) expect((await region.get('heal', `race/${i}`)).equals(bodies[i])).toBe(true);
    await eventually(() => everyReferencedChunkOn(NODES, 3), 30_000, 500);
  }, 120_000);
});

async function nodeChunk(region: TestRegion, nodeId: string, hash: string): Promise<Buffer | undefined> {
  const res = await signedFetch(`${region.nodes.get(nodeId)!.url}/chunks/${hash}`);
  if (res.status !== 200) return undefined;
  return Buffer.from(await res.arrayBuffer());
}

/** Flips one byte of the first pack record holding `marker`; false when no pack holds it. */
async function flipInPacks(dataDir: string, marker: Buffer): Promise<boolean> {
  const packsDir = path.join(dataDir, 'packs');
  for (const name of await fsp.readdir(packsDir)) {
    const file = path.join(packsDir, name);
    const bytes = await fsp.readFile(file);
    const at = bytes.indexOf(marker);
    if (at < 0) continue;
    const fh = await fsp.open(file, 'r+');
    await fh.write(Buffer.from([bytes[at + 10] ^ 0x01]), 0, 1, at + 10);
    await fh.close();
    return true;
  }
  return false;
}
