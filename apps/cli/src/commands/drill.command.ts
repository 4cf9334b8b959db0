import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import type { ControlGroupView, DrillReport, SwitchoverReply } from '@cairn/protocol';
import { AdminClient } from '../adapters/admin-client';
import { drillReport, drillSummary, type DrillWrite } from '../domain/drill-report';
import { CliError, ExitCodes, usageError } from '../domain/exit-codes';
import { renderTable } from '../domain/format';
import { resolveSettings } from '../domain/settings';
import { action, integerArg, type CliIo, type CommandContext } from './context';
import { faultProxyCall } from './links.command';

const DEFAULT_BUCKET = 'cairn-drill';
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RTO_TARGET_SECONDS = 30;
const WARM_UP_MS = 3_000;
const WRITE_PAUSE_MS = 50;
const WRITE_TIMEOUT_MS = 15_000;
const POLL_MS = 200;
/** A drill's clients stop after this many writes each, whatever happens. */
const MAX_WRITES_PER_CLIENT = 20_000;
const CHECK_CONCURRENCY = 16;

interface DrillRegion {
  readonly name: string;
  readonly admin: AdminClient;
  readonly s3: S3Client;
}

interface DrillOptions {
  readonly region: string;
  readonly bucket?: string;
  readonly writeSeconds?: string;
  readonly timeoutSeconds?: string;
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
  const view = await region.admin.get<ControlGroupView>('sync', '/control');
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

/** The federation's regions from the profile (start:regions writes .cairn/regions/profile.json, listing them all). */
function federationOf(ctx: CommandContext): DrillRegion[] {
  const names = Object.keys(ctx.profile?.regions ?? {}).sort();
  if (names.length < 3) {
    throw usageError('a drill needs a profile listing at least three regions (a majority must remain to fail over): pass --profile .cairn/regions/profile.json, which npm run start:regions writes');
  }
  return names.map((name) => {
    const settings = resolveSettings({ endpoint: name, env: ctx.io.env, profile: ctx.profile, profilePath: ctx.profilePath });
    if (!settings.s3Keys) throw usageError(`the profile has no S3 keys for ${name}: the drill writes as an S3 client`);
    const s3 = new S3Client({
      endpoint: settings.endpoints.access,
      region: settings.s3Keys.signingRegion,
      forcePathStyle: true,
      credentials: { accessKeyId: settings.s3Keys.accessKeyId, secretAccessKey: settings.s3Keys.secretAccessKey },
      maxAttempts: 1,
    });
    return { name, admin: new AdminClient(settings), s3 };
  });
}

/**
 * One drill (docs/failover.md): the bucket's home is `region` (made so first), clients write
 * through every region, the region's links are cut, the failover is timed, the clients' records
 * judge RPO, RTO and split brain, the region comes back and every acknowledged write must be
 * everywhere. The report is printed and kept by the new home's sync.
 */
async function runDrill(ctx: CommandContext, opts: DrillOptions, regions: readonly DrillRegion[]): Promise<DrillReport> {
  const progress = (text: string) => {
    if (!ctx.json) ctx.warn(text);
  };
  const target = regions.find((r) => r.name === opts.region);
  if (!target) throw usageError(`--region ${opts.region} is not a region of the profile (${regions.map((r) => r.name).join(', ')})`);
  const bucket = opts.bucket ?? DEFAULT_BUCKET;
  if (!BUCKET_PATTERN.test(bucket)) throw usageError(`"${bucket}" is not a bucket name`);
  const writeMs = integerArg('--write-seconds', opts.writeSeconds ?? '3', 1, 600) * 1000;
  const timeoutMs = integerArg('--timeout-seconds', opts.timeoutSeconds ?? '60', 10, 3600) * 1000;
  const link = (verb: 'cut' | 'heal') => faultProxyCall(ctx, 'POST', `/links/${encodeURIComponent(target.name)}/${verb}`);
  const survivors = regions.filter((r) => r !== target);
  const id = randomUUID();
  const startedMs = Date.now();

  progress(`drill ${id}: preparing bucket ${bucket} with its home in ${target.name}`);
  await target.s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
    if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
  });
  await target.admin.call('metadata', 'PUT', `/admin/buckets/${encodeURIComponent(bucket)}/replication`, { body: { mode: 'active-passive', homeRegion: target.name } });
  const registered = await until(Date.now() + timeoutMs, () => homeIn(target, bucket));
  if (registered && registered.home !== target.name) {
    progress(`drill ${id}: moving ${bucket}'s home from ${registered.home} to ${target.name} first (planned switchover)`);
    await target.admin.post<SwitchoverReply>('sync', '/control/switchover', { body: { bucket, to: target.name } });
  }
  for (const r of regions) {
    if (!(await until(Date.now() + timeoutMs, async () => (await homeIn(r, bucket))?.home === target.name))) {
      throw new CliError(ExitCodes.failed, `${r.name} does not see ${target.name} as the home of ${bucket} after ${timeoutMs / 1000} s; is every region's sync running?`);
    }
  }

  const writers = regions.map((r) => new DrillWriter(r, bucket, `drill-${id}`));
  for (const w of writers) w.start();
  let writes: DrillWrite[] = [];
  let failedMs = 0;
  let promotedMs: number | null = null;
  let promoted: { home: string; epoch: number } | null = null;
  try {
    await sleep(WARM_UP_MS);
    await until(Date.now() + timeoutMs, async () => writers.every((w) => w.writes.some((x) => x.ok)));
    progress(`drill ${id}: cutting ${target.name}'s links`);
    failedMs = Date.now();
    await link('cut');
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
      await sleep(writeMs);
    }
  } finally {
    writes = (await Promise.all(writers.map((w) => w.stop()))).flat();
  }
  const acknowledged = writes.filter((w) => w.ok);
  const newHome = promoted ? regions.find((r) => r.name === promoted!.home)! : null;
  const missingInNewHome = newHome ? await missingIn(newHome, bucket, acknowledged) : new Set(acknowledged.map((w) => w.key));

  progress(`drill ${id}: restoring ${target.name}'s links, waiting for the regions to converge`);
  await link('heal');
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
  const report = drillReport({
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
  });
  const keeper = newHome ?? survivors[0];
  await keeper.admin.post('sync', '/control/drills', { body: report }).catch((error: unknown) => ctx.warn(`the report could not be kept by ${keeper.name}'s sync: ${String(error)}`));
  return report;
}

/** `cairn drill`: disaster-recovery drills against a federation of regions (a test or staging setup with the fault proxy). */
export function registerDrills(program: Command, io: CliIo): void {
  const drill = program.command('drill').alias('drills').description('disaster-recovery drills: take a region out, measure RPO and RTO, restore it, check convergence');

  drill
    .command('run')
    .description("take a region out (its links cut through the fault proxy) while clients write through every region; report RPO, RTO, split brain and convergence (needs a profile listing the regions: start:regions' .cairn/regions/profile.json)")
    .requiredOption('--region <region>', 'the region to take out; the drill bucket is made to have its home there first')
    .option('--bucket <bucket>', `the active-passive bucket the clients write to (created if missing; default ${DEFAULT_BUCKET})`)
    .option('--write-seconds <n>', 'how long clients keep writing after the new home took its first write (default 3)')
    .option('--timeout-seconds <n>', 'how long to wait for the failover, and twice that for convergence (default 60)')
    .option('--proxy <url>', "the fault proxy's control API (default: CAIRN_FAULT_PROXY_URL, the profile's faultProxy, http://127.0.0.1:9990)")
    .action(
      action(io, async (ctx, opts: DrillOptions) => {
        const regions = federationOf(ctx);
        try {
          const report = await runDrill(ctx, opts, regions);
          ctx.print(() => drillSummary(report), report);
          if (!report.ok) ctx.exitCode = ExitCodes.failed;
        } finally {
          await Promise.all(regions.map(async (r) => (r.s3.destroy(), await r.admin.close())));
        }
      }),
    );

  drill
    .command('list')
    .description("drill reports kept by this region's sync, newest first")
    .action(
      action(io, async (ctx) => {
        const reports = await ctx.admin.get<DrillReport[]>('sync', '/control/drills');
        ctx.print(
          () =>
            renderTable(
              ['FINISHED', 'REGION OUT', 'RESULT', 'NEW HOME', 'FAILOVER', 'RTO', 'RPO', 'SPLIT BRAIN', 'LOST'],
              reports.map((r) => [
                r.finishedAt,
                r.region,
                r.ok ? 'PASS' : 'FAIL',
                r.newHome ?? '-',
                r.failoverSeconds === null ? '-' : `${r.failoverSeconds.toFixed(1)} s`,
                r.rtoSeconds === null ? '-' : `${r.rtoSeconds.toFixed(1)} s`,
                `${r.rpoObjects} obj / ${r.rpoSeconds.toFixed(1)} s`,
                r.splitBrain ? 'YES' : 'no',
                r.lostAcknowledged,
              ]),
              '(no drill has been run against this region)',
            ),
          reports,
        );
      }),
    );
}
