import type { Command } from 'commander';
import { ExitCodes, usageError } from '../domain/exit-codes';
import { lifecycleLine, plannedLines, type LifecycleReportWire } from '../domain/lifecycle-views';
import { action, type CliIo } from './context';

const POLL_MS = 1_000;

/**
 * Lifecycle passes (docs/lifecycle.md): `cairn lifecycle run [--bucket b] [--now <iso>] [--dry-run]`,
 * `cairn lifecycle status [id]`. The configurations themselves are S3's (Put/Get/DeleteBucketLifecycleConfiguration).
 */
export function registerLifecycle(program: Command, io: CliIo): void {
  const lifecycle = program.command('lifecycle').description('bucket lifecycle passes: run one now (as of a moment, or as a preview) and see what they did');
  lifecycle
    .command('run')
    .description('run a lifecycle pass now and wait for it; --dry-run lists what would be done and changes nothing')
    .option('--bucket <bucket>', 'only this bucket (default: every bucket with a lifecycle configuration run from this region)')
    .option('--now <iso>', 'judge the rules as of this ISO-8601 instant (e.g. 2027-01-01T00:00:00Z) instead of now')
    .option('--dry-run', 'list what would be done; act on nothing')
    .option('--no-wait', 'print the queued pass and return; follow it with `cairn lifecycle status <id>`')
    .action(
      action(io, async (ctx, opts: { bucket?: string; now?: string; dryRun?: boolean; wait: boolean }) => {
        if (opts.now !== undefined && (!/^\d{4}-\d{2}-\d{2}T/.test(opts.now) || Number.isNaN(Date.parse(opts.now)))) throw usageError(`--now: "${opts.now}" is not an ISO-8601 instant`);
        const body = { ...(opts.bucket ? { bucket: opts.bucket } : {}), ...(opts.now ? { now: new Date(Date.parse(opts.now)).toISOString() } : {}), ...(opts.dryRun ? { dryRun: true } : {}) };
        let report = await ctx.admin.post<LifecycleReportWire>('scheduler', '/admin/lifecycle/run', { body });
        if (!opts.dryRun && opts.wait) {
          while (report.state === 'running') {
            if (!ctx.json) ctx.io.stderr.write(`\r${lifecycleLine(report)}`);
            await new Promise((resolve) => setTimeout(resolve, POLL_MS));
            report = await ctx.admin.get<LifecycleReportWire>('scheduler', `/admin/lifecycle/runs/${encodeURIComponent(report.id)}`);
          }
          if (!ctx.json) ctx.io.stderr.write('\n');
        }
        if (report.state === 'failed' || report.counts.failures > 0) ctx.exitCode = ExitCodes.failed;
        ctx.print(() => [lifecycleLine(report), ...plannedLines(report), ...report.failureSample.map((f) => `  failed: ${f}`), ...(report.error ? [`  error: ${report.error}`] : [])].join('\n'), report);
      }),
    );
  lifecycle
    .command('status [id]')
    .description('one pass by id, or the pass running now, the last one and the latest runs')
    .action(
      action(io, async (ctx, id: string | undefined) => {
        if (id !== undefined) {
          const report = await ctx.admin.get<LifecycleReportWire>('scheduler', `/admin/lifecycle/runs/${encodeURIComponent(id)}`);
          ctx.print(() => [lifecycleLine(report), ...report.failureSample.map((f) => `  failed: ${f}`)].join('\n'), report);
          return;
        }
        const reply = await ctx.admin.get<{ running: LifecycleReportWire | null; last: LifecycleReportWire | null; recent: LifecycleReportWire[] }>('scheduler', '/admin/lifecycle');
        ctx.print(
          () =>
            [
              reply.running ? `running: ${lifecycleLine(reply.running)}` : 'running: none',
              reply.last ? `last:    ${lifecycleLine(reply.last)}` : 'last:    none',
              ...(reply.recent.length > 0 ? ['recent:', ...reply.recent.map((r) => `  ${lifecycleLine(r)}`)] : []),
            ].join('\n'),
          reply,
        );
      }),
    );
}
