import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { request } from 'undici';
import { createHash } from 'node:crypto';
import { AdminClient } from '../adapters/admin-client';
import { CliError, ExitCodes, exitCodeForStatus } from '../domain/exit-codes';
import { resolveSettings } from '../domain/settings';
import { drillLines, type DrillReport } from '../domain/backup-views';
import { parseDurationMs } from '../domain/duration';
import { backupLine, backupsTable, targetsTable, verifyLine, type BackupManifestWire, type BackupRunsWire, type BackupTargetWire, type VerifyReportWire } from '../domain/backup-views';
import { historyTable, momentArg, restoreLine, sourceNote, type HistoryListWire, type RestoreReportWire } from '../domain/point-in-time-views';
import { action, integerArg, type CliIo } from './context';

/**
 * Reading the past, point-in-time restore and backups (docs/backups.md):
 * `cairn bucket ls <bucket> --at <time>`, `cairn object get <bucket> <key> --at <time> -o <file>`.
 */
export function registerBackups(program: Command, io: CliIo): void {
  const buckets = program.commands.find((c) => c.name() === 'buckets') ?? program.command('buckets').alias('bucket');
  buckets
    .command('ls <bucket>')
    .description('the objects of a bucket as of a moment (from the event log, so deleted objects show as they were; from a backup where the live log no longer reaches)')
    .requiredOption('--at <time>', 'ISO-8601 instant with zone (2026-12-02T16:00:00Z) or a time ago (10m, 2h, 1d)')
    .option('--prefix <prefix>', 'only keys starting with this')
    .option('--limit <n>', 'at most this many keys (1-1000); the rest are pages away', '1000')
    .option('--after <key>', 'the page after this key')
    .action(
      action(io, async (ctx, bucket: string, opts: { at: string; prefix?: string; limit: string; after?: string }) => {
        const at = momentArg('--at', opts.at, Date.now());
        const query = { at, prefix: opts.prefix, after: opts.after, limit: integerArg('--limit', opts.limit, 1, 1000) };
        const reply = await ctx.admin.get<HistoryListWire>('scheduler', `/admin/history/buckets/${encodeURIComponent(bucket)}/objects`, { query });
        const from = sourceNote(reply.source);
        ctx.print(() => `${historyTable(reply)}${from ? `\n(as of ${reply.at}${from})` : ''}${reply.nextAfter ? `\nmore: cairn bucket ls ${bucket} --at ${at} --after '${reply.nextAfter}'` : ''}`, reply);
      }),
    );

  const objects = program.commands.find((c) => c.name() === 'object') ?? program.command('object').description('one object of a bucket');
  objects
    .command('get <bucket> <key>')
    .description('the bytes of an object as of a moment (the version current then), written to a file')
    .requiredOption('--at <time>', 'ISO-8601 instant with zone or a time ago (10m, 2h, 1d)')
    .requiredOption('-o, --output <file>', 'where to write the bytes')
    .option('--version-id <id>', 'a version that existed then, rather than the current one')
    .action(
      action(io, async (ctx, bucket: string, key: string, opts: { at: string; output: string; versionId?: string }) => {
        const at = momentArg('--at', opts.at, Date.now());
        const query = new URLSearchParams({ key, at, ...(opts.versionId ? { versionId: opts.versionId } : {}) });
        const url = `${ctx.settings.endpoints.scheduler}/admin/history/buckets/${encodeURIComponent(bucket)}/object?${query.toString()}`;
        const token = await ctx.admin.operatorToken();
        let res;
        try {
          res = await request(url, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
        } catch (error) {
          throw new CliError(ExitCodes.unreachable, `cannot reach the scheduler: ${(error as Error).message}`);
        }
        if (res.statusCode !== 200) {
          const text = await res.body.text();
          let parsed: { code?: string; message?: string } = {};
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            // not JSON: the text is the message
          }
          throw new CliError(exitCodeForStatus(res.statusCode), `${parsed.code ?? `HTTP ${res.statusCode}`}: ${parsed.message ?? text.slice(0, 200)}`, parsed.code, res.statusCode);
        }
        const partial = `${opts.output}.partial`;
        try {
          await pipeline(res.body, createWriteStream(partial));
          await rename(partial, opts.output);
        } catch (error) {
          await rm(partial, { force: true });
          throw new CliError(ExitCodes.failed, `the download of ${bucket}/${key} broke off: ${(error as Error).message}`);
        }
        const summary = { bucket, key, at, versionId: String(res.headers['x-cairn-version-id'] ?? ''), etag: String(res.headers['etag'] ?? '').replace(/"/g, ''), sizeBytes: Number(res.headers['content-length']), file: opts.output, source: String(res.headers['x-cairn-history-source'] ?? 'live') };
        const from = summary.source === 'live' ? '' : ` (from ${summary.source})`;
        ctx.print(() => `${bucket}/${key} as of ${at}${from}: version ${summary.versionId}, ${summary.sizeBytes} bytes, etag ${summary.etag} → ${opts.output}`, summary);
      }),
    );

  program
    .command('restore <bucket>')
    .description('restore a bucket (or a prefix) to a moment, from the live event log where it still reaches, else from the newest backup that does: keys that differ get a new version with their old content (chunks reused, or copied back from the backup) or a delete; history is kept')
    .requiredOption('--at <time>', 'ISO-8601 instant with zone or a time ago (10m, 2h, 1d)')
    .option('--prefix <prefix>', 'only keys starting with this')
    .option('--to <bucket>', 'write the restored state into this (existing) bucket instead')
    .option('--no-wait', 'print the job and return; follow it with `cairn restore status <id>`')
    .action(
      action(io, async (ctx, bucket: string, opts: { at: string; prefix?: string; to?: string; wait: boolean }) => {
        const at = momentArg('--at', opts.at, Date.now());
        const body = { bucket, at, ...(opts.prefix ? { prefix: opts.prefix } : {}), ...(opts.to ? { to: opts.to } : {}) };
        let report = await ctx.admin.post<RestoreReportWire>('scheduler', '/admin/restore', { body });
        if (opts.wait) {
          while (report.state === 'queued' || report.state === 'running') {
            if (!ctx.json) ctx.io.stderr.write(`\r${restoreLine(report)}`);
            await new Promise((resolve) => setTimeout(resolve, RESTORE_POLL_MS));
            report = await ctx.admin.get<RestoreReportWire>('scheduler', `/admin/restore/${encodeURIComponent(report.id)}`);
          }
          if (!ctx.json) ctx.io.stderr.write('\n');
          if (report.state === 'failed' || report.failures > 0) ctx.exitCode = ExitCodes.failed;
        }
        ctx.print(() => [restoreLine(report), ...report.failureSample.map((f) => `  failed: ${f}`), ...(report.error ? [`  error: ${report.error}`] : [])].join('\n'), report);
      }),
    );

  const backup = program.command('backup').description('backups of the region to a directory or an S3 bucket: targets, run, list, verify');
  const targets = backup.command('target').description('where backups go');
  targets
    .command('add <name>')
    .description('add a backup target: --dir <path>, or --s3 <endpoint> --bucket <b> --access-key <id> --secret-key <secret> (sealed at rest)')
    .option('--dir <path>', 'an absolute directory (local or mounted)')
    .option('--s3 <endpoint>', 'an S3-compatible endpoint URL (another Cairn region, MinIO, AWS)')
    .option('--bucket <bucket>', 'the bucket (s3)')
    .option('--prefix <prefix>', 'key prefix inside the bucket (s3)')
    .option('--region <region>', 'the S3 region to sign for (s3)', 'us-east-1')
    .option('--access-key <id>', 'access key id (s3)')
    .option('--secret-key <secret>', 'secret access key (s3; or CAIRN_BACKUP_SECRET_KEY)')
    .option('--bytes-per-second <n>', 'pace of backup and restore copies (default 64 MiB/s)')
    .option('--every <duration>', 'back up on a schedule, e.g. 1h')
    .option('--keep <n>', 'complete backups a scheduled target keeps', '24')
    .action(
      action(io, async (ctx, name: string, opts: { dir?: string; s3?: string; bucket?: string; prefix?: string; region: string; accessKey?: string; secretKey?: string; bytesPerSecond?: string; every?: string; keep: string }) => {
        if (Boolean(opts.dir) === Boolean(opts.s3)) throw new CliError(ExitCodes.usage, 'give exactly one of --dir <path> or --s3 <endpoint>');
        const secretAccessKey = opts.secretKey ?? ctx.io.env['CAIRN_BACKUP_SECRET_KEY'];
        const body = {
          name,
          kind: opts.dir ? 'dir' : 's3',
          ...(opts.dir ? { path: opts.dir } : { endpoint: opts.s3, bucket: opts.bucket, region: opts.region, accessKeyId: opts.accessKey, secretAccessKey, ...(opts.prefix ? { prefix: opts.prefix } : {}) }),
          ...(opts.bytesPerSecond ? { bytesPerSecond: integerArg('--bytes-per-second', opts.bytesPerSecond, 65_536, Number.MAX_SAFE_INTEGER) } : {}),
          ...(opts.every ? { everySeconds: Math.round(parseDurationMs(opts.every) / 1000), keep: integerArg('--keep', opts.keep, 1, 10_000) } : {}),
        };
        const reply = await ctx.admin.post<BackupTargetWire>('scheduler', '/admin/backup/targets', { body });
        ctx.print(() => targetsTable([reply]), reply);
      }),
    );
  targets
    .command('list')
    .description('backup targets (secrets never shown)')
    .action(
      action(io, async (ctx) => {
        const reply = await ctx.admin.get<{ targets: BackupTargetWire[] }>('scheduler', '/admin/backup/targets');
        ctx.print(() => targetsTable(reply.targets), reply);
      }),
    );
  targets
    .command('rm <name>')
    .description('forget a backup target (what it holds stays)')
    .action(
      action(io, async (ctx, name: string) => {
        const reply = await ctx.admin.delete<{ removed: string }>('scheduler', `/admin/backup/targets/${encodeURIComponent(name)}`);
        ctx.print(() => `removed backup target ${name}`, reply);
      }),
    );

  backup
    .command('run')
    .description('back up now: the events since the target\'s latest backup and the chunks it lacks, then the manifest')
    .requiredOption('--target <name>', 'the backup target')
    .option('--no-wait', 'queue it and return')
    .action(
      action(io, async (ctx, opts: { target: string; wait: boolean }) => {
        const before = await ctx.admin.get<BackupRunsWire>('scheduler', '/admin/backup/runs');
        const known = new Set(before.recent.map((r) => `${r.id}:${r.finishedAt ?? ''}`));
        const queued = await ctx.admin.post<{ jobId: string }>('scheduler', '/admin/backup/run', { body: { target: opts.target } });
        if (!opts.wait) {
          ctx.print(() => `backup to ${opts.target} queued (job ${queued.jobId})`, queued);
          return;
        }
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, BACKUP_POLL_MS));
          const runs = await ctx.admin.get<BackupRunsWire>('scheduler', '/admin/backup/runs');
          if (runs.running && runs.running.target === opts.target && !ctx.json) ctx.io.stderr.write(`\r${backupLine(runs.running)}`);
          const finished = runs.recent.find((r) => r.target === opts.target && !known.has(`${r.id}:${r.finishedAt ?? ''}`) && (r.state === 'done' || r.state === 'failed'));
          if (finished && !(finished.state === 'failed' && runs.running?.id === finished.id)) {
            if (!ctx.json) ctx.io.stderr.write('\n');
            if (finished.state === 'failed') ctx.exitCode = ExitCodes.failed;
            ctx.print(() => backupLine(finished), finished);
            return;
          }
        }
      }),
    );

  backup
    .command('list')
    .description("a target's complete backups (cut sequence, when, new events, chunks copied)")
    .requiredOption('--target <name>', 'the backup target')
    .action(
      action(io, async (ctx, opts: { target: string }) => {
        const reply = await ctx.admin.get<{ backups: BackupManifestWire[] }>('scheduler', '/admin/backup/list', { query: { target: opts.target } });
        ctx.print(() => backupsTable(reply.backups), reply);
      }),
    );

  backup
    .command('verify')
    .description('re-read a backup from its target: every event segment and the configuration against their hashes, and a sample (or all) of the chunks its cut needs')
    .requiredOption('--target <name>', 'the backup target')
    .option('--backup <id>', 'the backup (default the latest)')
    .option('--sample <n>', 'chunks to re-read', '100')
    .option('--all', 'every chunk the cut needs')
    .action(
      action(io, async (ctx, opts: { target: string; backup?: string; sample: string; all?: boolean }) => {
        const body = { target: opts.target, ...(opts.backup ? { backupId: opts.backup } : {}), sample: opts.all ? 0 : integerArg('--sample', opts.sample, 1, 10_000_000) };
        const reply = await ctx.admin.post<VerifyReportWire>('scheduler', '/admin/backup/verify', { body });
        if (!reply.ok) ctx.exitCode = ExitCodes.failed;
        ctx.print(() => verifyLine(reply), reply);
      }),
    );

  backup
    .command('drill')
    .description("restore the target's latest backup into a scratch region (an empty `npm start` namespace given by --into), compare it with this region as of the backup's cut (object count, etags, sampled bytes) and report RTO and RPO")
    .requiredOption('--target <name>', 'the backup target (added to the scratch region too when it is a directory)')
    .requiredOption('--into <endpoint>', 'the scratch region: a region of the profile or its S3 address')
    .option('--sample <n>', 'objects whose bytes are compared', '20')
    .action(
      action(io, async (ctx, opts: { target: string; into: string; sample: string }) => {
        const sample = integerArg('--sample', opts.sample, 0, 100_000);
        const drillStartedMs = Date.now();
        const { backups } = await ctx.admin.get<{ backups: BackupManifestWire[] }>('scheduler', '/admin/backup/list', { query: { target: opts.target } });
        const latest = backups.at(-1);
        if (!latest) throw new CliError(ExitCodes.failed, `no complete backup in ${opts.target}: run cairn backup run --target ${opts.target} first`);
        const scratch = new AdminClient(resolveSettings({ endpoint: opts.into, env: ctx.io.env, profile: ctx.profile, profilePath: ctx.profile ? ctx.profilePath : null }));
        try {
          const there = await scratch.get<{ targets: BackupTargetWire[] }>('scheduler', '/admin/backup/targets');
          if (!there.targets.some((t) => t.name === opts.target)) {
            const here = (await ctx.admin.get<{ targets: BackupTargetWire[] }>('scheduler', '/admin/backup/targets')).targets.find((t) => t.name === opts.target);
            if (here?.kind !== 'dir') throw new CliError(ExitCodes.usage, `add the target ${opts.target} to the scratch region first (an s3 target's secret is not readable back): cairn --endpoint ${opts.into} backup target add …`);
            await scratch.post('scheduler', '/admin/backup/targets', { body: { name: here.name, kind: 'dir', path: here.path, bytesPerSecond: here.bytesPerSecond } });
          }
          const restoreStartedMs = Date.now();
          const queued = await scratch.post<{ id: string }>('scheduler', '/admin/backup/restore', { body: { target: opts.target, backupId: latest.id } });
          let restore: { state: string; error?: string; tookMs?: number; phase?: string; chunks?: { doneBytes: number }; events?: { total: number } } = { state: 'running' };
          while (restore.state !== 'done') {
            await new Promise((resolve) => setTimeout(resolve, BACKUP_POLL_MS));
            restore = (await scratch.getIfServed<typeof restore>('scheduler', `/admin/backup/restore/${queued.id}`)) ?? restore;
            if (restore.state === 'failed') throw new CliError(ExitCodes.failed, `the drill's restore failed: ${restore.error ?? 'no reason given'}`);
            if (!ctx.json) ctx.io.stderr.write(`\rrestoring ${latest.id} into ${opts.into}: ${restore.phase ?? 'queued'}   `);
          }
          if (!ctx.json) ctx.io.stderr.write('\n');
          const rtoSeconds = (Date.now() - restoreStartedMs) / 1000;
          const report = await compareRegions(ctx.admin, scratch, latest.cutAt, sample, ctx.settings.endpoints.scheduler, scratch.settings.endpoints.scheduler);
          const drill: DrillReport = {
            backupId: latest.id,
            cutSequence: latest.cutSequence,
            cutAt: latest.cutAt,
            rpoSeconds: (drillStartedMs - Date.parse(latest.cutAt)) / 1000,
            rtoSeconds,
            restoredChunkBytes: restore.chunks?.doneBytes ?? 0,
            restoredEvents: restore.events?.total ?? 0,
            ...report,
          };
          if (!drill.ok) ctx.exitCode = ExitCodes.failed;
          ctx.print(() => drillLines(drill), drill);
        } finally {
          await scratch.close();
        }
      }),
    );
}

/** Object counts, etags and sampled bytes of every bucket: this region as of the cut against the scratch region now. */
async function compareRegions(source: AdminClient, scratch: AdminClient, cutAt: string, sample: number, sourceScheduler: string, scratchScheduler: string) {
  const { buckets } = await scratch.get<{ buckets: { name: string }[] }>('metadata', '/admin/buckets');
  let objects = 0;
  let sourceObjects = 0;
  const etagMismatches: string[] = [];
  const candidates: { bucket: string; key: string }[] = [];
  const listAll = async (client: AdminClient, bucket: string, at: string) => {
    const out = new Map<string, string>();
    let after: string | undefined;
    do {
      const page = await client.get<HistoryListWire>('metadata', `/admin/buckets/${encodeURIComponent(bucket)}/objects`, { query: { at, after, limit: 1000 } });
      for (const o of page.objects) out.set(o.key, o.etag);
      after = page.nextAfter ?? undefined;
    } while (after);
    return out;
  };
  const now = new Date().toISOString();
  for (const { name } of buckets) {
    const [then, restored] = await Promise.all([listAll(source, name, cutAt), listAll(scratch, name, now)]);
    sourceObjects += then.size;
    objects += restored.size;
    for (const [key, etag] of then) {
      if (restored.get(key) !== etag) etagMismatches.push(`${name}/${key}`);
      else candidates.push({ bucket: name, key });
    }
    for (const key of restored.keys()) if (!then.has(key)) etagMismatches.push(`${name}/${key} (not in the source)`);
  }
  const chosen = candidates.sort(() => Math.random() - 0.5).slice(0, sample);
  const byteMismatches: string[] = [];
  const digest = async (client: AdminClient, base: string, bucket: string, key: string, at: string) => {
    const token = await client.operatorToken();
    const res = await request(`${base}/admin/history/buckets/${encodeURIComponent(bucket)}/object?${new URLSearchParams({ key, at }).toString()}`, { headers: { authorization: `Bearer ${token}` } });
    const hash = createHash('sha256');
    for await (const piece of res.body) hash.update(piece as Buffer);
    return res.statusCode === 200 ? hash.digest('hex') : `HTTP ${res.statusCode}`;
  };
  for (const { bucket, key } of chosen) {
    const [a, b] = await Promise.all([digest(source, sourceScheduler, bucket, key, cutAt), digest(scratch, scratchScheduler, bucket, key, now)]);
    if (a !== b || a.startsWith('HTTP')) byteMismatches.push(`${bucket}/${key}`);
  }
  return {
    buckets: buckets.length,
    sourceObjects,
    objects,
    etagMismatches: etagMismatches.slice(0, 20),
    etagMismatchCount: etagMismatches.length,
    sampled: chosen.length,
    byteMismatches,
    ok: etagMismatches.length === 0 && byteMismatches.length === 0 && objects === sourceObjects,
  };
}

const RESTORE_POLL_MS = 1_000;
const BACKUP_POLL_MS = 1_000;
