import { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { DEFAULT_DRILL_BUCKET, DrillError, drillSummary, runDrill, type DrillRegion } from '@cairn/drill';
import type { DrillReport } from '@cairn/protocol';
import { AdminClient } from '../adapters/admin-client';
import { CliError, ExitCodes, usageError } from '../domain/exit-codes';
import { renderTable } from '../domain/format';
import { resolveSettings } from '../domain/settings';
import { action, integerArg, type CliIo, type CommandContext } from './context';
import { faultProxyCall } from './links.command';

interface DrillOptions {
  readonly region: string;
  readonly bucket?: string;
  readonly writeSeconds?: string;
  readonly timeoutSeconds?: string;
}

interface CliDrillRegion extends DrillRegion {
  readonly client: AdminClient;
}

/** The federation's regions from the profile (start:regions writes .cairn/regions/profile.json, listing them all). */
function federationOf(ctx: CommandContext): CliDrillRegion[] {
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
    const client = new AdminClient(settings);
    return { name, s3, client, admin: { call: (service, method, path, body) => client.call(service, method, path, body === undefined ? {} : { body }) } };
  });
}

/** One drill (libs/drill, the same the scheduler runs): its usage problems and failures as the CLI's errors. */
async function drillFromCli(ctx: CommandContext, opts: DrillOptions, regions: readonly DrillRegion[]): Promise<DrillReport> {
  const writeMs = integerArg('--write-seconds', opts.writeSeconds ?? '3', 1, 600) * 1000;
  const timeoutMs = integerArg('--timeout-seconds', opts.timeoutSeconds ?? '60', 10, 3600) * 1000;
  const links = { cut: (region: string) => faultProxyCall(ctx, 'POST', `/links/${encodeURIComponent(region)}/cut`), heal: (region: string) => faultProxyCall(ctx, 'POST', `/links/${encodeURIComponent(region)}/heal`) };
  const plan = { region: opts.region, bucket: opts.bucket ?? DEFAULT_DRILL_BUCKET, writeMs, timeoutMs, trigger: 'cli' as const, by: `cairn drill run (${ctx.io.env['USER'] ?? 'operator'})` };
  try {
    return await runDrill(regions, links, plan, (text) => {
      if (!ctx.json) ctx.warn(text);
    });
  } catch (error) {
    if (error instanceof DrillError) throw error.kind === 'usage' ? usageError(error.message) : new CliError(ExitCodes.failed, error.message);
    throw error;
  }
}

/** `cairn drill`: disaster-recovery drills against a federation of regions (a test or staging setup with the fault proxy). */
export function registerDrills(program: Command, io: CliIo): void {
  const drill = program.command('drill').alias('drills').description('disaster-recovery drills: take a region out, measure RPO and RTO, restore it, check convergence');

  drill
    .command('run')
    .description("take a region out (its links cut through the fault proxy) while clients write through every region; report RPO, RTO, split brain and convergence (needs a profile listing the regions: start:regions' .cairn/regions/profile.json)")
    .requiredOption('--region <region>', 'the region to take out; the drill bucket is made to have its home there first')
    .option('--bucket <bucket>', `the active-passive bucket the clients write to (created if missing; default ${DEFAULT_DRILL_BUCKET})`)
    .option('--write-seconds <n>', 'how long clients keep writing after the new home took its first write (default 3)')
    .option('--timeout-seconds <n>', 'how long to wait for the failover, and twice that for convergence (default 60)')
    .option('--proxy <url>', "the fault proxy's control API (default: CAIRN_FAULT_PROXY_URL, the profile's faultProxy, http://127.0.0.1:9990)")
    .action(
      action(io, async (ctx, opts: DrillOptions) => {
        const regions = federationOf(ctx);
        try {
          const report = await drillFromCli(ctx, opts, regions);
          ctx.print(() => drillSummary(report), report);
          if (!report.ok) ctx.exitCode = ExitCodes.failed;
        } finally {
          await Promise.all(regions.map(async (r) => (r.s3.destroy(), await r.client.close())));
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
              ['FINISHED', 'STARTED BY', 'REGION OUT', 'RESULT', 'NEW HOME', 'FAILOVER', 'RTO', 'RPO', 'SPLIT BRAIN', 'LOST'],
              reports.map((r) => [
                r.finishedAt,
                r.trigger ?? 'cli',
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
