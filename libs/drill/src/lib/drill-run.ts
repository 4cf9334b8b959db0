import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ControlGroupView, DrillClaim, DrillClaimRequest, DrillReport, SwitchoverReply } from '@cairn/protocol';
import { drillReport, type DrillWrite } from './drill-report';

export const DEFAULT_DRILL_BUCKET = 'cairn-drill';
export const DRILL_BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RTO_TARGET_SECONDS = 30;
const WARM_UP_MS = 3_000;
const WRITE_PAUSE_MS = 50;
const WRITE_TIMEOUT_MS = 15_000;
const POLL_MS = 200;
/** A drill's clients stop after this many writes each, whatever happens. */
const MAX_WRITES_PER_CLIENT = 20_000;
const CHECK_CONCURRENCY = 16;

/** One region's admin APIs as the drill calls them (the CLI's AdminClient, the scheduler's own). */
export interface DrillAdmin {
  call<T>(service: 'metadata' | 'sync', method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T>;
}

/** A region of the federation: its S3 endpoint, which the drill's clients write through, and its admin APIs. */
export interface DrillRegion {
  readonly name: string;
  readonly s3: S3Client;
  readonly admin: DrillAdmin;
}

/** How the drill takes a region out and brings it back: its links through the fault proxy. */
export interface DrillLinks {
  cut(region: string): Promise<unknown>;
  heal(region: string): Promise<unknown>;
}

export interface DrillPlan {
  /** The region to take out; the bucket's home is moved there first. */
  readonly region: string;
  readonly bucket: string;
  /** How long clients keep writing after the new home took its first write. */
  readonly writeMs: number;
  /** How long to wait for the failover, and twice that for convergence. */
  readonly timeoutMs: number;
  readonly trigger: NonNullable<DrillReport['trigger']>;
  /** Who runs it, as the federation's drill claim names it. */
  readonly by: string;
}

/** A drill that could not run at all (no report): `usage` when the plan or the federation is wrong, `failed` when a region did not play along. */
export class DrillError extends Error {
  constructor(
    readonly kind: 'usage' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

/** A client writing small objects one after another through one region's S3 endpoint, every outcome recorded. */
class DrillWriter {
  readonly writes: DrillWrite[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly region: DrillRegion,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  start(): void {
    this.loop = (async () => {
      for (let i = 0; !this.stopped && i < MAX_WRITES_PER_CLIENT; i++) {
        const key = `${this.prefix}/${this.region.name}/${String(i).padStart(6, '0')}`;
        const startedMs = Date.now();
        try {
          const res = await this.region.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: `${key} ${startedMs}` }), { abortSignal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
          this.writes.push({ via: this.region.name, key, etag: res.ETag ?? null, startedMs, endedMs: Date.now(), ok: true });
        } catch {
          this.writes.push({ via: this.region.name, key, etag: null, startedMs, endedMs: Date.now(), ok: false });
        }
        await sleep(WRITE_PAUSE_MS);
      }
    })();
  }

  async stop(): Promise<DrillWrite[]> {
    this.stopped = true;
    await this.loop;
    return this.writes;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The probe's first truthy answer, or null once the deadline passes. */
async function until<T>(deadlineMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T | null> {
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadlineMs) return null;
    await sleep(POLL_MS);
  }
}

async function homeIn(region: DrillRegion, bucket: string): Promise<{ home: string; epoch: number } | null> {
  const view = await region.admin.call<ControlGroupView>('sync', 'GET', '/control');
  return view.buckets.find((b) => b.bucket === bucket) ?? null;
}

/** The keys among `writes` that `region` does not serve with the same ETag. */
async function missingIn(region: DrillRegion, bucket: string, writes: readonly DrillWrite[]): Promise<Set<string>> {
  const missing = new Set<string>();
  let next = 0;
  await Promise.all(
    Array.from({ length: CHECK_CONCURRENCY }, async () => {
      while (next < writes.length) {
        const w = writes[next++];
        const head = await region.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: w.key })).catch(() => null);
        if (!head || head.ETag !== w.etag) missing.add(w.key);
      }
    }),
  );
  return missing;
}

/** How long a drill's claim on the federation lasts should its runner die: the whole drill at its longest, and a margin. */
export function drillClaimTtlSeconds(plan: Pick<DrillPlan, 'timeoutMs' | 'writeMs'>): number {
  return Math.ceil((plan.timeoutMs * 5 + plan.writeMs + WARM_UP_MS + 60_000) / 1000);
}

/**
 * One drill (docs/failover.md): the federation is claimed (one drill at a time, by the control
 * group), the bucket's home is made `plan.region`, clients write through every region, the
 * region's links are cut, the failover is timed, the clients' records judge RPO, RTO and split
 * brain, the region comes back and every acknowledged write must be everywhere. The report is
 * returned and kept (a DrillReported event) by the new home's sync. The CLI's `cairn drill run`
 * and the scheduler's periodic drill both run this.
 */
export async function runDrill(regions: readonly DrillRegion[], links: DrillLinks, plan: DrillPlan, progress: (text: string) => void = () => undefined): Promise<DrillReport> {
  if (regions.length < 3) throw new DrillError('usage', 'a drill needs at least three regions: a majority must remain to fail over');
  const target = regions.find((r) => r.name === plan.region);
  if (!target) throw new DrillError('usage', `${plan.region} is not a region of the federation (${regions.map((r) => r.name).join(', ')})`);
  if (!DRILL_BUCKET_PATTERN.test(plan.bucket)) throw new DrillError('usage', `"${plan.bucket}" is not a bucket name`);
  const survivors = regions.filter((r) => r !== target);
  const id = randomUUID();
  const claimer = survivors[0];
  const claim: DrillClaimRequest = { id, region: target.name, by: plan.by, ttlSeconds: drillClaimTtlSeconds(plan) };
  await claimer.admin.call<DrillClaim>('sync', 'POST', '/control/drills/claim', claim).catch((error: unknown) => {
    throw new DrillError('failed', `the federation cannot be claimed for a drill: ${error instanceof Error ? error.message : String(error)}`);
  });
  try {
    const report = await drillClaimed(id, regions, target, links, plan, progress);
    const keeper = regions.find((r) => r.name === report.newHome) ?? claimer;
    await keeper.admin.call('sync', 'POST', '/control/drills', report).catch((error: unknown) => progress(`the report could not be kept by ${keeper.name}'s sync: ${String(error)}`));
    return report;
  } finally {
    await claimer.admin.call('sync', 'POST', '/control/drills/release', { id }).catch((error: unknown) => progress(`the drill's claim could not be released (it lapses by itself): ${String(error)}`));
  }
}

async function drillClaimed(id: string, regions: readonly DrillRegion[], target: DrillRegion, links: DrillLinks, plan: DrillPlan, progress: (text: string) => void): Promise<DrillReport> {
  const { bucket, timeoutMs } = plan;
  const survivors = regions.filter((r) => r !== target);
  const startedMs = Date.now();

  progress(`drill ${id}: preparing bucket ${bucket} with its home in ${target.name}`);
  await target.s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
    if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
  });
  await target.admin.call('metadata', 'PUT', `/admin/buckets/${encodeURIComponent(bucket)}/replication`, { mode: 'active-passive', homeRegion: target.name });
  const registered = await until(Date.now() + timeoutMs, () => homeIn(target, bucket));
  if (registered && registered.home !== target.name) {
    progress(`drill ${id}: moving ${bucket}'s home from ${registered.home} to ${target.name} first (planned switchover)`);
    await target.admin.call<SwitchoverReply>('sync', 'POST', '/control/switchover', { bucket, to: target.name });
  }
  for (const r of regions) {
    if (!(await until(Date.now() + timeoutMs, async () => (await homeIn(r, bucket))?.home === target.name))) {
      throw new DrillError('failed', `${r.name} does not see ${target.name} as the home of ${bucket} after ${timeoutMs / 1000} s; is every region's sync running?`);
    }
  }

  const writers = regions.map((r) => new DrillWriter(r, bucket, `drill-${id}`));
  for (const w of writers) w.start();
  let writes: DrillWrite[] = [];
  let failedMs = 0;
  let promotedMs: number | null = null;
  let promoted: { home: string; epoch: number } | null = null;
  let cut = false;
  try {
    await sleep(WARM_UP_MS);
    await until(Date.now() + timeoutMs, async () => writers.every((w) => w.writes.some((x) => x.ok)));
    progress(`drill ${id}: cutting ${target.name}'s links`);
    failedMs = Date.now();
    cut = true;
    await links.cut(target.name);
    promoted = await until(failedMs + timeoutMs, async () => {
      for (const r of survivors) {
        const home = await homeIn(r, bucket).catch(() => null);
        if (home && home.home !== target.name) return home;
      }
      return null;
    });
    promotedMs = promoted ? Date.now() : null;
    progress(promoted ? `drill ${id}: ${promoted.home} is home (epoch ${promoted.epoch}) after ${((promotedMs! - failedMs) / 1000).toFixed(1)} s` : `drill ${id}: no failover within ${timeoutMs / 1000} s`);
    if (promoted) {
      await until(Date.now() + timeoutMs, async () => writers.some((w) => w.writes.some((x) => x.ok && x.via !== target.name && x.startedMs > promotedMs!)));
      await sleep(plan.writeMs);
    }
  } catch (error) {
    // Never leave a region cut off because the drill itself broke.
    if (cut) await links.heal(target.name).catch(() => undefined);
    throw error;
  } finally {
    writes = (await Promise.all(writers.map((w) => w.stop()))).flat();
  }
  const acknowledged = writes.filter((w) => w.ok);
  const newHome = promoted ? regions.find((r) => r.name === promoted!.home)! : null;
  const missingInNewHome = newHome ? await missingIn(newHome, bucket, acknowledged) : new Set(acknowledged.map((w) => w.key));

  progress(`drill ${id}: restoring ${target.name}'s links, waiting for the regions to converge`);
  await links.heal(target.name);
  const healedMs = Date.now();
  let lostAfterHeal = new Set<string>();
  const converged = await until(healedMs + timeoutMs * 2, async () => {
    if (promoted && (await homeIn(target, bucket))?.home !== promoted.home) return false;
    for (const r of regions) {
      lostAfterHeal = await missingIn(r, bucket, acknowledged);
      if (lostAfterHeal.size > 0) return false;
    }
    return true;
  });
  return {
    ...drillReport({
      id,
      region: target.name,
      bucket,
      oldHome: target.name,
      startedMs,
      failedMs,
      promotedMs,
      newHome: promoted?.home ?? null,
      epoch: promoted?.epoch ?? null,
      healedMs,
      finishedMs: Date.now(),
      writes,
      missingInNewHome,
      convergedMs: converged ? Date.now() : null,
      lostAfterHeal: converged ? new Set() : lostAfterHeal,
      rtoTargetSeconds: RTO_TARGET_SECONDS,
    }),
    trigger: plan.trigger,
  };
}
