import type { Command } from 'commander';
import type { BucketRoute, ControlGroupView, SwitchoverReply } from '@cairn/protocol';
import { usageError } from '../domain/exit-codes';
import { formatBytes, renderTable } from '../domain/format';
import { action, type CliIo } from './context';

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

function controlText(v: ControlGroupView): string {
  const lease = v.leaseRemainingMs >= Number.MAX_SAFE_INTEGER ? 'unbounded (a region alone)' : `${(v.leaseRemainingMs / 1000).toFixed(1)} s`;
  return [
    `control group of ${v.voters.join(', ')}: ${v.region} is ${v.role}${v.leader ? `, leader ${v.leader}` : ''} (term ${v.term}, applied ${v.appliedIndex}); this region's lease: ${lease}`,
    '',
    renderTable(
      ['REGION', 'AS THE GROUP SEES IT', 'REPORTED DOWN BY', 'CHECK FROM HERE', 'RTT'],
      v.regions.map((r) => {
        const check = v.checks.find((c) => c.region === r.region);
        return [
          r.region,
          r.down ? 'DOWN (majority)' : 'up',
          r.reportedDownBy.join(', ') || '-',
          r.region === v.region ? '(this region)' : check ? (check.up ? 'ok' : `failing (${check.failures} checks)`) : '-',
          check?.rttMs === null || check?.rttMs === undefined ? '-' : `${Math.round(check.rttMs)} ms`,
        ];
      }),
    ),
    '',
    renderTable(
      ['BUCKET', 'HOME', 'EPOCH', 'STATE', 'SINCE', 'HOW'],
      v.buckets.map((b) => [b.bucket, b.home, b.epoch, b.state === 'draining' ? `switching to ${b.switchingTo}` : 'serving', b.since, b.reason]),
      '(no active-passive bucket)',
    ),
  ].join('\n');
}

/** `cairn region`: the control group between regions (docs/failover.md) — who is home of what, and planned switchovers. */
export function registerRegions(program: Command, io: CliIo): void {
  const region = program.command('region').alias('regions').description('the control group between regions: homes of active-passive buckets, regions down, leases, planned switchover');

  region
    .command('status', { isDefault: true })
    .description("the control group as this region's sync sees it: leader, regions down by majority, each active-passive bucket's home and epoch, this region's lease")
    .action(
      action(io, async (ctx) => {
        const view = await ctx.admin.get<ControlGroupView>('sync', '/control');
        ctx.print(() => controlText(view), view);
      }),
    );

  region
    .command('route <bucket>')
    .description('where a client should send the bucket’s writes (its home) and reads (the nearest healthy region holding it), from this region’s measured round trips and the regions’ free storage')
    .action(
      action(io, async (ctx, bucket: string) => {
        if (!BUCKET_PATTERN.test(bucket)) throw usageError(`"${bucket}" is not a bucket name`);
        const route = await ctx.admin.get<BucketRoute>('sync', `/control/route/${encodeURIComponent(bucket)}`);
        const at = (r: BucketRoute['read']) => (r ? `${r.region}${r.s3Endpoint ? ` (${r.s3Endpoint})` : ''}` : 'none reachable');
        ctx.print(
          () =>
            [
              `bucket ${bucket} (${route.mode}${route.home ? `, home ${route.home} epoch ${route.epoch}` : ''}): writes → ${at(route.write)}; reads → ${at(route.read)}`,
              '',
              renderTable(
                ['REGION', 'UP', 'RTT', 'FREE', 'HOLDS IT', 'S3 ENDPOINT'],
                route.regions.map((r) => [r.region, r.up ? 'yes' : 'NO', r.rttMs === null ? '-' : `${Math.round(r.rttMs)} ms`, r.freeBytes === null ? '-' : formatBytes(r.freeBytes), r.holdsBucket ? 'yes' : 'no', r.s3Endpoint ?? '-']),
              ),
            ].join('\n'),
          route,
        );
      }),
    );

  region
    .command('switchover <bucket> <region>')
    .description("move an active-passive bucket's home to another region without loss: writes pause while the new home catches up, then it takes over")
    .action(
      action(io, async (ctx, bucket: string, to: string) => {
        if (!BUCKET_PATTERN.test(bucket)) throw usageError(`"${bucket}" is not a bucket name`);
        if (!REGION_PATTERN.test(to)) throw usageError(`"${to}" is not a region name`);
        const reply = await ctx.admin.post<SwitchoverReply>('sync', '/control/switchover', { body: { bucket, to } });
        ctx.print(
          () =>
            reply.from === reply.to
              ? `bucket ${bucket}: ${to} is already its home (epoch ${reply.epoch})`
              : `bucket ${bucket}: home ${reply.from} → ${reply.to} (epoch ${reply.epoch}); writes paused ${(reply.pausedMs / 1000).toFixed(2)} s`,
          reply,
        );
      }),
    );
}
