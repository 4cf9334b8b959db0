import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { METADATA_SERVICE, MetadataRpc, type BucketRoute, type ControlGroupView, type DrillReport, type SwitchoverReply } from '@cairn/protocol';
import { eventually, signedFetch, startServiceProcess, testOperatorToken } from '@cairn/testing';
import { runCairn as cairn, TestFederation, type FederatedRegion } from './testing/federation.e2e-helper';

/**
 * Clear of start:regions, the NATS-only regions test (10_000), anti-entropy (15_000) and
 * replication (20_000): a shift that is not a multiple of 100 never lands on their ports (all end
 * in 22 or 90), and everything stays below the kernel's ephemeral range (32768+).
 */
const PORT_SHIFT = 20_050;
const SETTLE_MS = 90_000;
/** The failover window at the defaults: 3 failed checks 1 s apart. */
const FAILOVER_WINDOW_MS = 3_000;

interface WriteRecord {
  readonly via: string;
  readonly key: string;
  readonly body: string;
  readonly startedMs: number;
  readonly endedMs: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** A client writing one small object after another through one region's S3 endpoint, every outcome recorded. */
class Writer {
  readonly records: WriteRecord[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly region: FederatedRegion,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  start(): void {
    this.loop = (async () => {
      for (let i = 0; !this.stopped && i < 5_000; i++) {
        const key = `${this.prefix}/${String(i).padStart(5, '0')}`;
        const body = `${key} written through ${this.region.name} at ${Date.now()}`;
        const startedMs = Date.now();
        try {
          await this.region.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }), { abortSignal: AbortSignal.timeout(15_000) });
          this.records.push({ via: this.region.name, key, body, startedMs, endedMs: Date.now(), ok: true });
        } catch (error) {
          this.records.push({ via: this.region.name, key, body, startedMs, endedMs: Date.now(), ok: false, error: (error as Error).name });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
  }

  async stop(): Promise<WriteRecord[]> {
    this.stopped = true;
    await this.loop;
    return this.records;
  }

  get acknowledged(): WriteRecord[] {
    return this.records.filter((r) => r.ok);
  }
}

async function control(region: FederatedRegion): Promise<ControlGroupView> {
  return region.syncApi<ControlGroupView>('/control');
}

async function switchover(region: FederatedRegion, bucket: string, to: string): Promise<{ status: number; body: SwitchoverReply & { code?: string } }> {
  const sync = region.services.get('sync')!;
  const res = await signedFetch(`${sync.url}/control/switchover`, {
    method: 'POST',
    headers: { authorization: `Bearer ${testOperatorToken('admin')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ bucket, to }),
  });
  return { status: res.status, body: (await res.json()) as SwitchoverReply & { code?: string } };
}

async function homeOf(region: FederatedRegion, bucket: string): Promise<{ home: string; epoch: number } | undefined> {
  const view = await control(region).catch(() => undefined);
  return view?.buckets.find((b) => b.bucket === bucket);
}

/** The error a GET answers with (its S3 code), or 'ok'. */
async function getOutcome(s3: S3Client, bucket: string, key: string): Promise<string> {
  try {
    await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}

async function bodyOf(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await res.Body!.transformToString();
  } catch {
    return undefined;
  }
}

/** Every acknowledged write readable with its bytes in `region` (each key written once). */
async function missingIn(region: FederatedRegion, bucket: string, writes: readonly WriteRecord[]): Promise<WriteRecord[]> {
  const missing: WriteRecord[] = [];
  for (const w of writes) if ((await bodyOf(region.s3, bucket, w.key)) !== w.body) missing.push(w);
  return missing;
}

/**
 * Disaster recovery between three real regions (docs/failover.md): the control group (Raft, one
 * voter per region, over the federation links through the fault proxy) holds each active-passive
 * bucket's home. A home cut off from both others stops acknowledging before a new home is
 * promoted; a minority partition promotes nothing; a planned switchover under load loses nothing.
 */
describe('failover between regions', () => {
  const federation = new TestFederation(3, PORT_SHIFT);
  const [one, two, three] = federation.regions;
  const BUCKET = 'orders';

  beforeAll(async () => {
    await federation.startNats();
    await Promise.all([one.start(), two.start(), three.start()]);
    await one.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await one.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    await one.rpc.request(METADATA_SERVICE, MetadataRpc.setBucketReplication, { bucket: BUCKET, replication: { mode: 'active-passive', homeRegion: 'region-1' } });
    // Every region knows the bucket and the group has registered its home.
    for (const r of federation.regions) {
      await eventually(async () => (await homeOf(r, BUCKET))?.home === 'region-1', SETTLE_MS, 250);
    }
    await eventually(async () => (await two.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'warm-up', Body: 'x' })).then(() => true, () => false)), SETTLE_MS, 250);
  }, 300_000);

  afterAll(async () => {
    await federation.stop();
  }, 60_000);

  it("reads through a replica region see the client's own writes at once, and a bucket's staleness bound holds reads of a region cut off from the home", async () => {
    // Read-your-writes (the default): every write through region-2 is forwarded to the home; a read
    // through region-2 right after it waits (≤ 1 s) until region-2 has applied that write. The
    // home's link is slowed by 300 ms, so the change comes back well after the acknowledgement.
    await federation.proxy.latency('region-1', 300);
    try {
      for (let i = 0; i < 5; i++) {
        const key = `ryw/${i}`;
        await two.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `v${i}` }));
        expect(await bodyOf(two.s3, BUCKET, key)).toBe(`v${i}`);
        const listed = await two.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'ryw/' }));
        expect(listed.Contents?.map((c) => c.Key)).toContain(key);
        await two.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
        expect(await getOutcome(two.s3, BUCKET, key)).toBe('NoSuchKey');
      }
    } finally {
      await federation.proxy.reset('region-1');
    }

    // A bound of 3 s (cairn bucket staleness): region-3, cut off from the home, serves reads until
    // its copy may be over 3 s old, then refuses them with 503 SlowDown; healed, it serves again.
    const profile = federation.writeProfile('region-1');
    const set = await cairn(['--profile', profile, '--json', 'bucket', 'staleness', BUCKET, '3']);
    expect({ code: set.code, stderr: set.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(set.stdout)).toMatchObject({ bucket: BUCKET, readStaleness: 3 });
    await two.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bounded', Body: 'fresh' }));
    await eventually(async () => (await bodyOf(three.s3, BUCKET, 'bounded')) === 'fresh', SETTLE_MS, 250);
    const shown = await cairn(['--profile', profile, '--endpoint', 'region-3', '--json', 'bucket', 'staleness', BUCKET]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ readStaleness: 3 });
    await federation.proxy.cut('region-3');
    try {
      await eventually(async () => (await getOutcome(three.s3, BUCKET, 'bounded')) === 'SlowDown', 30_000, 250);
      // The home and the region still linked to it serve it all along.
      expect(await bodyOf(one.s3, BUCKET, 'bounded')).toBe('fresh');
      expect(await bodyOf(two.s3, BUCKET, 'bounded')).toBe('fresh');
    } finally {
      await federation.proxy.heal('region-3');
    }
    await eventually(async () => (await getOutcome(three.s3, BUCKET, 'bounded')) === 'ok', SETTLE_MS, 250);
    const reset = await cairn(['--profile', profile, '--json', 'bucket', 'staleness', BUCKET, 'read-your-writes']);
    expect(JSON.parse(reset.stdout)).toMatchObject({ readStaleness: 'read-your-writes' });
    await eventually(async () => (await control(two)).regions.every((r) => !r.down), SETTLE_MS, 250);
  }, 240_000);

  it('fails the home over to another region within 30 s when it is cut off, and never has two homes acknowledging', async () => {
    const atHome = new Writer(one, BUCKET, 'at-home');
    const elsewhere = new Writer(two, BUCKET, 'via-two');
    atHome.start();
    elsewhere.start();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // What has replicated when the home is cut must be in the new home: wait until the others hold
    // what was acknowledged so far (the writers go on meanwhile).
    const replicatedBefore = [...atHome.acknowledged, ...elsewhere.acknowledged];
    for (const survivor of [two, three]) await eventually(async () => (await missingIn(survivor, BUCKET, replicatedBefore)).length === 0, SETTLE_MS, 250);
    const cutAtMs = Date.now();
    await federation.proxy.cut('region-1');

    const promoted = await eventually(async () => {
      const home = await homeOf(two, BUCKET);
      return home && home.home !== 'region-1' ? home : undefined;
    }, 30_000, 100);
    const promotedAtMs = Date.now();
    expect(promotedAtMs - cutAtMs).toBeLessThan(30_000);
    expect(promoted.epoch).toBe(2);
    // Writers keep going until the new home has acknowledged for a while.
    await eventually(async () => elsewhere.acknowledged.some((r) => r.startedMs > promotedAtMs), 30_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const [oldHomeWrites, otherWrites] = await Promise.all([atHome.stop(), elsewhere.stop()]);

    // Split brain, from the clients' records: every write the old home acknowledged after the cut
    // was acknowledged before the first write any other region acknowledged after the cut.
    const oldHomeAfterCut = oldHomeWrites.filter((r) => r.ok && r.endedMs > cutAtMs);
    const newHomeAfterCut = otherWrites.filter((r) => r.ok && r.startedMs > cutAtMs);
    expect(newHomeAfterCut.length).toBeGreaterThan(0);
    const lastOld = Math.max(0, ...oldHomeAfterCut.map((r) => r.endedMs));
    const firstNew = Math.min(...newHomeAfterCut.map((r) => r.endedMs));
    expect(lastOld).toBeLessThan(firstNew);
    // The old home stopped within its lease (2 s at the defaults) plus one write's time.
    expect(lastOld === 0 || lastOld - cutAtMs < FAILOVER_WINDOW_MS).toBe(true);
    const refusedAtOldHome = oldHomeWrites.filter((r) => !r.ok && r.startedMs > cutAtMs + FAILOVER_WINDOW_MS);
    expect(refusedAtOldHome.length).toBeGreaterThan(0);

    // What had replicated before the cut is in the new home; RTO is the first acknowledgement after the cut.
    const newHome = federation.region(promoted.home);
    expect(await missingIn(newHome, BUCKET, replicatedBefore)).toEqual([]);

    // The old home comes back: it catches up, stays a replica, and forwards writes to the new home.
    await federation.proxy.heal('region-1');
    await eventually(async () => (await homeOf(one, BUCKET))?.home === promoted.home, SETTLE_MS, 250);
    await eventually(() => one.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after-heal', Body: 'forwarded' })).then(() => true, () => false), SETTLE_MS, 500);
    expect(await bodyOf(newHome.s3, BUCKET, 'after-heal')).toBe('forwarded');
    // Nothing any client was told was written is lost — not even what the old home took alone during its lease.
    const acknowledged = [...oldHomeWrites, ...otherWrites].filter((r) => r.ok);
    for (const region of federation.regions) {
      await eventually(async () => (await missingIn(region, BUCKET, acknowledged)).length === 0, SETTLE_MS, 1_000).catch(async () => {
        throw new Error(`${region.name} lacks ${JSON.stringify((await missingIn(region, BUCKET, acknowledged)).map((w) => w.key))}`);
      });
    }
  }, 300_000);

  it('promotes nothing when a minority region is cut off, and returns to one home when it heals', async () => {
    const before = (await homeOf(two, BUCKET))!;
    const minority = federation.regions.find((r) => r.name !== before.home)!;
    await federation.proxy.cut(minority.name);
    await new Promise((resolve) => setTimeout(resolve, FAILOVER_WINDOW_MS * 3));
    const majoritySide = federation.regions.find((r) => r.name !== minority.name && r.name !== before.home) ?? federation.region(before.home);
    expect(await homeOf(majoritySide, BUCKET)).toMatchObject({ home: before.home, epoch: before.epoch });
    // The majority side sees the minority down; the home keeps acknowledging.
    const view = await control(federation.region(before.home));
    expect(view.regions.find((r) => r.region === minority.name)?.down).toBe(true);
    await federation.region(before.home).s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'during-minority-cut', Body: 'still home' }));
    await federation.proxy.heal(minority.name);
    await eventually(async () => {
      const views = await Promise.all(federation.regions.map((r) => homeOf(r, BUCKET)));
      return views.every((v) => v?.home === before.home && v.epoch === before.epoch);
    }, SETTLE_MS, 250);
    await eventually(async () => (await control(two)).regions.every((r) => !r.down), SETTLE_MS, 250);
  }, 180_000);

  it('switches the home over under load, losing nothing and pausing writes for a few seconds at most', async () => {
    const before = (await homeOf(two, BUCKET))!;
    const target = federation.regions.find((r) => r.name !== before.home)!;
    const writers = federation.regions.map((r) => new Writer(r, BUCKET, `switchover-${r.name}`));
    for (const w of writers) w.start();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const result = await switchover(two, BUCKET, target.name);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ from: before.home, to: target.name, epoch: before.epoch + 1 });
    expect(result.body.pausedMs).toBeLessThan(10_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const records = (await Promise.all(writers.map((w) => w.stop()))).flat();
    const acknowledged = records.filter((r) => r.ok);
    expect(acknowledged.length).toBeGreaterThan(10);
    expect(await missingIn(target, BUCKET, acknowledged)).toEqual([]);
    for (const region of federation.regions) {
      await eventually(async () => (await homeOf(region, BUCKET))?.home === target.name, SETTLE_MS, 250);
    }
  }, 180_000);

  it('runs a drill from the CLI: takes the home out, reports RPO and RTO, restores it, checks convergence and keeps the report', async () => {
    const profile = federation.writeProfile('region-2');
    const home = (await homeOf(two, BUCKET))!.home;
    const run = await cairn(['--profile', profile, '--json', 'drill', 'run', '--region', home, '--bucket', BUCKET, '--write-seconds', '2']);
    // On a failure the report (stdout, JSON) says which of its checks failed.
    expect({ code: run.code, output: `${run.stderr.slice(-2_000)}\n${run.stdout.slice(-4_000)}` }).toEqual({ code: 0, output: expect.any(String) });
    const report = JSON.parse(run.stdout) as DrillReport;
    expect(report).toMatchObject({ region: home, oldHome: home, splitBrain: false, converged: true, lostAcknowledged: 0, ok: true, problems: [] });
    expect(report.newHome).not.toBe(home);
    expect(report.rtoSeconds).toBeLessThan(30);
    expect(report.writes.acknowledged).toBeGreaterThan(0);
    // Kept as an event by the new home's sync, and listed by `cairn drill list` there.
    const listed = await cairn(['--profile', profile, '--endpoint', report.newHome!, '--json', 'drill', 'list']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as DrillReport[]).map((r) => r.id)).toContain(report.id);
    const human = await cairn(['--profile', profile, '--endpoint', report.newHome!, 'region', 'status']);
    expect(human.stdout).toContain(`${BUCKET}`);
    // Routing: writes to the home, reads to the nearest region (the one asked), every endpoint known.
    const asked = federation.regions.find((r) => r.name !== report.newHome)!;
    const route = await cairn(['--profile', profile, '--endpoint', asked.name, '--json', 'region', 'route', BUCKET]);
    expect(route.code).toBe(0);
    const routed = JSON.parse(route.stdout) as BucketRoute;
    expect(routed).toMatchObject({ mode: 'active-passive', home: report.newHome, write: { region: report.newHome }, read: { region: asked.name, s3Endpoint: asked.services.get('access')!.url } });
    expect(routed.regions.every((r) => r.up && r.s3Endpoint !== null && r.freeBytes !== null && r.freeBytes > 0)).toBe(true);
  }, 300_000);

  it('runs drills on a schedule from a scheduler (opt-in), one at a time, and keeps their reports like the CLI’s', async () => {
    const profile = federation.writeProfile('region-1');
    const scheduler = await startServiceProcess({
      app: 'scheduler',
      // 90 s apart: the first drill is over (~30-50 s) well before a second would start.
      env: { ...one.env('scheduler-1'), CAIRN_DRILL_INTERVAL_MS: '90000', CAIRN_DRILL_REGION: 'region-3', CAIRN_DRILL_PROFILE: profile, CAIRN_DRILL_BUCKET: 'scheduled-drill' },
    });
    let report: DrillReport | undefined;
    try {
      report = await eventually(async () => {
        for (const r of federation.regions) {
          const kept = await r.syncApi<DrillReport[]>('/control/drills').catch(() => []);
          const scheduled = kept.find((d) => d.trigger === 'schedule');
          if (scheduled) return scheduled;
        }
        return undefined;
      }, 240_000, 1_000);
      // The claim ends with the drill: the federation is free for the next one.
      await eventually(async () => (await control(two)).drill === null, 30_000, 250);
    } finally {
      await scheduler.stop();
    }
    expect(report).toMatchObject({ region: 'region-3', bucket: 'scheduled-drill', trigger: 'schedule', splitBrain: false, converged: true, lostAcknowledged: 0, ok: true });
  }, 330_000);
});
