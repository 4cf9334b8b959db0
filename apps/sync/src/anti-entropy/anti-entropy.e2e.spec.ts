import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { keyIdOf } from '@cairn/hashing';
import { METADATA_SERVICE, MetadataRpc, subjectsFor, type AntiEntropyRunReport, type AntiEntropyStatusView } from '@cairn/protocol';
import { eventually, signedFetch, startServiceProcess, testOperatorToken } from '@cairn/testing';
import { Client } from 'pg';
import { FEDERATION_ROOT_ACCESS_KEY, FEDERATION_ROOT_SECRET_KEY, TestFederation, versionsOf, type FederatedRegion, type VersionLine } from '../testing/federation.e2e-helper';

/**
 * Clear of a running start:regions (0), the NATS-only regions test (10_000) and replication's e2e
 * (20_000), and below the kernel's ephemeral ports (32768+), where an outgoing connection's local
 * port can hold a listener's port for a minute (TIME_WAIT).
 */
const PORT_SHIFT = 15_000;
const CONVERGE_MS = 60_000;
const BUCKET = 'ae-e2e';
/** Small bodies: the gateway keeps them inline, so a repaired version needs no chunk pulled. */
const KEYS = 40;
/** Two of the helper's 256 KiB chunks, each a file of its own on every storage node (not inline, not packed). */
const CHUNK_BYTES = 256 * 1024;
const LARGE_BYTES = 2 * CHUNK_BYTES;

/**
 * Anti-entropy between two whole regions (docs/anti-entropy.md), as real processes joined through
 * the fault proxy. A difference is planted by removing what some changes did from one side only —
 * the key's events purged from that region's META, its rows deleted from the projection, metadata
 * restarted so nothing of them is cached — so that replication has nothing left to deliver
 * (its consumer acknowledged those events long ago). Anti-entropy finds the key by comparing Merkle
 * trees and pulls it back from the other region: on its interval (region-1), when a link heals
 * (region-2, which runs no periodic comparisons), and when an operator asks.
 */
describe('anti-entropy between regions', () => {
  const federation = new TestFederation(2, PORT_SHIFT);
  const [one, two] = federation.regions;
  const auth = { authorization: `Bearer ${testOperatorToken('admin')}` };

  /** sync with anti-entropy settings for the test: no lock-manager in these regions, so no lease; probes twice a second. */
  async function restartSync(region: FederatedRegion, intervalMs: number): Promise<void> {
    await region.kill('sync');
    const sync = await startServiceProcess({
      app: 'sync',
      env: { ...region.env('sync-1'), CAIRN_ANTI_ENTROPY_LEASE: 'none', CAIRN_ANTI_ENTROPY_INTERVAL_MS: String(intervalMs), CAIRN_ANTI_ENTROPY_PROBE_MS: '500' },
    });
    region.services.set('sync', sync);
  }

  async function antiEntropyOf(region: FederatedRegion): Promise<AntiEntropyStatusView> {
    return region.syncApi<AntiEntropyStatusView>('/replication/anti-entropy');
  }

  /**
   * Removes a key's every effect from one region: its events purged from META, its versions deleted
   * from the read model, metadata restarted (kill -9, then started again) so no cache remembers it.
   */
  async function forgetKey(region: FederatedRegion, key: string): Promise<void> {
    const subjects = subjectsFor(federation.namespace);
    const jsm = await region.nats.jetstreamManager();
    const purged = await jsm.streams.purge(subjects.streamName('META'), { filter: subjects.object(BUCKET, keyIdOf(key)) });
    expect(purged.purged).toBeGreaterThan(0);
    const db = new Client({ connectionString: region.databaseUrl });
    await db.connect();
    try {
      const schema = `cairn_${federation.namespace.toLowerCase()}`;
      const deleted = await db.query(`DELETE FROM "${schema}".object_versions WHERE bucket = $1 AND key_id = $2`, [BUCKET, keyIdOf(key)]);
      expect(deleted.rowCount).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
    await region.kill('metadata');
    region.services.set(
      'metadata',
      await startServiceProcess({ app: 'metadata', env: { ...region.env('metadata-1'), CAIRN_ROOT_ACCESS_KEY: FEDERATION_ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: FEDERATION_ROOT_SECRET_KEY } }),
    );
    await eventually(() => region.rpc.request(METADATA_SERVICE, MetadataRpc.getBucket, { bucket: BUCKET }).then(() => true, () => false), 30_000, 200);
  }

  const keysOf = (lines: readonly VersionLine[]) => [...new Set(lines.map((l) => l.key))];

  async function converged(): Promise<VersionLine[]> {
    return eventually(
      async () => {
        const [a, b] = await Promise.all([versionsOf(one.s3, BUCKET).catch(() => null), versionsOf(two.s3, BUCKET).catch(() => null)]);
        return a && b && JSON.stringify(a) === JSON.stringify(b) ? a : undefined;
      },
      CONVERGE_MS,
      250,
    );
  }

  /** The last report of `bucket→peer` in `region`, once it is a finished run started after `since` with this trigger. */
  async function reportAfter(region: FederatedRegion, peer: string, since: number, trigger: AntiEntropyRunReport['trigger']): Promise<AntiEntropyRunReport> {
    return eventually(
      async () => {
        const view = await antiEntropyOf(region).catch(() => undefined);
        const report = view?.reports.find((r) => r.bucket === BUCKET && r.peer === peer);
        return report && report.state !== 'running' && Date.parse(report.startedAt) >= since && report.trigger === trigger ? report : undefined;
      },
      CONVERGE_MS,
      250,
    );
  }

  /**
   * Every finished run of `region` against `peer` started since `since`, as seen by polling while
   * the test goes on: only the latest run per bucket and peer is kept, and on a loaded machine the
   * run that repaired a key can be replaced by the next one (every 3 s) before a later look.
   */
  function watchRuns(region: FederatedRegion, peer: string, since: number): { runs: Map<string, AntiEntropyRunReport>; stop: () => void } {
    const runs = new Map<string, AntiEntropyRunReport>();
    const timer = setInterval(() => {
      void antiEntropyOf(region)
        .then((view) => {
          for (const r of view.reports) {
            if (r.bucket === BUCKET && r.peer === peer && r.state !== 'running' && Date.parse(r.startedAt) >= since) runs.set(r.startedAt, r);
          }
        })
        .catch(() => undefined);
    }, 100);
    return { runs, stop: () => clearInterval(timer) };
  }

  let large: Buffer;

  beforeAll(async () => {
    await federation.startNats();
    await Promise.all([one.start(), two.start()]);
    // region-1 compares every 3 s; region-2 only when a link heals or an operator asks.
    await Promise.all([restartSync(one, 3_000), restartSync(two, 0)]);
    await one.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await one.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    await one.rpc.request(METADATA_SERVICE, MetadataRpc.setBucketReplication, { bucket: BUCKET, replication: { mode: 'active-active' } });
    // The first replication between two fresh regions: on a machine loaded by the whole suite it
    // once took longer than a minute to start.
    await eventually(() => two.rpc.request(METADATA_SERVICE, MetadataRpc.getBucket, { bucket: BUCKET }).then(() => true, () => false), 2 * CONVERGE_MS, 250);
    for (let i = 0; i < KEYS; i++) {
      const writer = i % 2 === 0 ? one : two;
      await writer.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `k/${i}`, Body: `body of k/${i}` }));
    }
    await one.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k/0', Body: 'second version of k/0' }));
    await two.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k/3' }));
    await one.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k/4' }));
    large = randomBytes(LARGE_BYTES);
    await one.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'large', Body: large }));
    await converged();
  }, 300_000);

  afterAll(async () => {
    await federation.stop();
  }, 60_000);

  it('a key whose events region-1 lost is pulled back from region-2 on region-1’s interval, without anyone asking', async () => {
    // k/5 was written in region-2 and replicated: region-1 forgets it, replication has nothing left to send.
    const before = await versionsOf(one.s3, BUCKET);
    const since = Date.now();
    const watch = watchRuns(one, 'region-2', since);
    let report: AntiEntropyRunReport;
    try {
      await forgetKey(one, 'k/5');
      expect(keysOf(await versionsOf(one.s3, BUCKET))).not.toContain('k/5');
      const after = await converged();
      expect(after).toEqual(before);
      report = await eventually(async () => [...watch.runs.values()].find((r) => r.trigger === 'interval' && r.keysRepaired > 0), CONVERGE_MS, 100);
    } finally {
      watch.stop();
    }
    expect(report).toMatchObject({ state: 'done', inSync: false, keysDiffering: 1, keysOnlyHere: 0, keysRepaired: 1, eventsApplied: 1, errorCount: 0 });
    // ~42 keys: fewer than a range worth descending, so the root range is listed at once on both sides.
    expect(report).toMatchObject({ rangesCompared: 1, rangesListed: 1, keysLocal: report.keysPeer - 1 });
    const etag = before.find((v) => v.key === 'k/5')?.etag;
    expect((await one.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k/5' }))).ETag).toBe(`"${etag}"`);
    // And the next run finds the bucket equal.
    const again = await reportAfter(one, 'region-2', Date.now(), 'interval');
    expect(again).toMatchObject({ inSync: true, rangesCompared: 1, keysDiffering: 0 });
  });

  it('region-2 repairs what it lost during a partition as soon as the link heals', async () => {
    const before = await versionsOf(one.s3, BUCKET);
    await federation.proxy.cut('region-2');
    try {
      await eventually(async () => (await antiEntropyOf(two)).peers.find((p) => p.region === 'region-1')?.reachable === false, 30_000, 200);
      // Two keys region-1 wrote (k/0 with two versions), gone from region-2 while it is cut off.
      await forgetKey(two, 'k/0');
      await forgetKey(two, 'k/8');
    } finally {
      await federation.proxy.heal('region-2');
    }
    const healedAt = Date.now() - 1_000;
    expect(await converged()).toEqual(before);
    const report = await reportAfter(two, 'region-1', healedAt, 'link-healed');
    expect(report).toMatchObject({ state: 'done', keysDiffering: 2, keysRepaired: 2, eventsApplied: 3, errorCount: 0 });
    const view = await antiEntropyOf(two);
    expect(view.peers).toEqual([expect.objectContaining({ region: 'region-1', reachable: true })]);
  });

  it('an operator’s run repairs a version whose chunks it must pull, and a delete marker, and reports it', async () => {
    const before = await versionsOf(one.s3, BUCKET);
    // region-2 loses the large version and its bytes: the chunk files go from all three of its storage nodes.
    const hashes = [large.subarray(0, CHUNK_BYTES), large.subarray(CHUNK_BYTES)].map((c) => createHash('sha256').update(c).digest('hex'));
    let removed = 0;
    for (const node of ['storage-1', 'storage-2', 'storage-3']) {
      for (const hash of hashes) {
        const file = path.join(federation.dataDir('region-2'), node, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash);
        if (existsSync(file)) {
          rmSync(file);
          removed += 1;
        }
      }
    }
    expect(removed).toBe(6);
    await forgetKey(two, 'large');
    // k/4: region-1's version and region-1's delete marker.
    await forgetKey(two, 'k/4');
    const since = Date.now();
    // A run after a link heals (a loaded machine can miss heartbeats) may replace the operator's report between looks.
    const watch = watchRuns(two, 'region-1', since);
    let report: AntiEntropyRunReport;
    try {
      const res = await signedFetch(`${two.services.get('sync')!.url}/replication/anti-entropy`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ bucket: BUCKET, peer: 'region-1' }),
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ queued: [`${BUCKET}→region-1`] });
      report = await eventually(async () => [...watch.runs.values()].find((r) => r.trigger === 'operator'), CONVERGE_MS, 100);
    } finally {
      watch.stop();
    }
    expect(report).toMatchObject({ state: 'done', keysDiffering: 2, keysRepaired: 2, eventsApplied: 3, chunksPulled: 2, errorCount: 0 });
    expect(await converged()).toEqual(before);
    const body = await (await two.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'large' }))).Body!.transformToByteArray();
    expect(Buffer.from(body).equals(large)).toBe(true);
    // Metrics say the same.
    const metrics = await (await signedFetch(`${two.services.get('sync')!.url}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/cairn_anti_entropy_runs_total\{[^}]*trigger="operator"[^}]*\} 1/);
    expect(metrics).toMatch(/cairn_anti_entropy_events_applied_total\{[^}]*peer="region-1"[^}]*\} [1-9]/);
  }, 120_000);
});
