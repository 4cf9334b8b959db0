import type { Command } from 'commander';
import type { InstancesReplyWire, JobsReplyWire, NodesReplyWire, ProjectionsReplyWire } from '../domain/admin-api.types';
import { alertsOf, activeAlerts, nodesWithHealth, summarizeServices } from '../domain/cluster-views';
import { formatDuration } from '../domain/duration';
import { CliError, ExitCodes } from '../domain/exit-codes';
import { formatBytes, formatPercent, formatRate, renderTable } from '../domain/format';
import { listJobs } from '../domain/jobs';
import { action, partOf, type CliIo } from './context';

/** Paths status reads; alerts is optional (a monitoring without an alerts API answers 404). */
export const ALERTS_PATH = '/alerts';

export function registerStatus(program: Command, io: CliIo): void {
  program
    .command('status')
    .description('the region at a glance: services and nodes (up/suspected/down), alerts, projection lag, jobs')
    .action(
      action(io, async (ctx) => {
        const admin = ctx.admin;
        const settled = await Promise.allSettled([
          admin.get<InstancesReplyWire>('monitoring', '/cluster/instances'),
          admin.get<NodesReplyWire>('scheduler', '/admin/nodes'),
          admin.get<JobsReplyWire>('scheduler', '/admin/jobs'),
          admin.get<ProjectionsReplyWire>('metadata', '/admin/projections'),
          admin.getIfServed<unknown>('monitoring', ALERTS_PATH),
        ]);
        const problems: string[] = [];
        const [instances, nodes, jobs, projections, alertsReply] = [
          partOf(settled[0], 'monitoring', problems),
          partOf(settled[1], 'scheduler (nodes)', problems),
          partOf(settled[2], 'scheduler (jobs)', problems),
          partOf(settled[3], 'metadata (projections)', problems),
          partOf(settled[4], 'monitoring (alerts)', problems),
        ];
        const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason);
        if (failures.length === settled.length) {
          // Nothing answered: report the first reason with its own exit code (usually 4, unreachable).
          throw failures[0] instanceof CliError ? failures[0] : new CliError(ExitCodes.failed, String(failures[0]));
        }
        const nodeRows = nodes ? nodesWithHealth(nodes.nodes, instances?.instances ?? null) : null;
        const alerts = settled[4].status === 'fulfilled' ? (alertsReply === null ? null : alertsOf(alertsReply)) : null;
        const active = alerts ? activeAlerts(alerts) : null;
        // Sweeps, and the scrubs with something to say (a pass scrubbing now or not yet through); `jobs list` shows them all.
        const jobViews = jobs ? listJobs(jobs).filter((j) => j.kind === 'sweep' || j.state === 'scrubbing' || j.fractionDone < 1) : null;
        const region = ctx.settings.region ?? instances?.instances[0]?.region ?? null;
        const services = instances ? summarizeServices(instances.instances) : null;
        // The regions the profile knows; each is looked at with --endpoint <name>.
        const regions = [...new Set([region, ctx.profile?.region, ...Object.keys(ctx.profile?.regions ?? {})].filter((r): r is string => Boolean(r)))];
        if (problems.length > 0) ctx.exitCode = ExitCodes.failed;
        ctx.print(
          () => {
            const out: string[] = [];
            out.push(`Region ${region ?? '(unnamed)'}   metadata ${ctx.settings.endpoints.metadata}   scheduler ${ctx.settings.endpoints.scheduler}   monitoring ${ctx.settings.endpoints.monitoring}`);
            if (regions.length > 1) out.push(`Regions in the profile: ${regions.join(', ')} (look at another with --endpoint <region>)`);
            out.push('', 'Services');
            out.push(
              services
                ? renderTable(
                    ['region', 'service', 'up', 'suspected', 'down', 'not up'],
                    services.map((s) => [s.region, s.service, s.up, s.suspected, s.down, s.notUp.join(', ')]),
                    '  no heartbeats heard yet',
                  )
                : '  unknown (monitoring did not answer)',
            );
            out.push('', `Storage nodes${nodes ? ` (ring epoch ${nodes.epoch})` : ''}`);
            out.push(
              nodeRows
                ? renderTable(
                    ['node', 'zone', 'state', 'weight', 'draining', 'chunks', 'bytes', 'free'],
                    nodeRows.map((n) => [n.nodeId, n.zone, n.state, n.weight, n.draining, n.held?.chunks, n.held ? formatBytes(n.held.bytes) : null, n.freeBytes === null ? null : formatBytes(n.freeBytes)]),
                  )
                : '  unknown (scheduler did not answer)',
            );
            out.push('', 'Alerts');
            out.push(
              active === null
                ? settled[4].status === 'fulfilled'
                  ? '  unknown (this monitoring serves no alerts API)'
                  : '  unknown (monitoring did not answer)'
                : active.length === 0
                  ? '  none firing or pending'
                  : renderTable(['alert', 'severity', 'state', 'since', 'summary'], active.map((a) => [a.name, a.severity, a.state, a.since, a.summary])),
            );
            out.push('', 'Lag');
            out.push(
              projections
                ? renderTable(['projection', 'checkpoint', 'last sequence', 'lag'], projections.streams.map((s) => [s.stream, s.checkpoint, s.lastSequence, s.lag]))
                : '  unknown (metadata did not answer)',
            );
            out.push('  replication: single region (no cross-region replication to lag)');
            out.push('', 'Jobs');
            out.push(
              jobViews
                ? renderTable(
                    ['id', 'kind', 'state', 'progress', 'rate', 'eta'],
                    jobViews.map((j) => [j.id, j.kind, j.state, formatPercent(j.fractionDone), formatRate(j.ratePerSecond, j.rateUnit), j.finished ? null : formatDuration(j.etaSeconds)]),
                  )
                : '  unknown (scheduler did not answer)',
            );
            if (jobs) out.push(`  repair queue: ${Object.entries(jobs.repairQueue).map(([k, v]) => `${k} ${v}`).join(', ')}`);
            if (problems.length > 0) out.push('', 'Problems', ...problems.map((p) => `  ${p}`));
            return out.join('\n');
          },
          {
            region,
            regions,
            endpoints: ctx.settings.endpoints,
            services,
            instances: instances?.instances ?? null,
            epoch: nodes?.epoch ?? null,
            nodes: nodeRows,
            alerts: active,
            alertsAvailable: active !== null,
            lag: { projections: projections?.streams ?? null, replication: null },
            jobs: jobViews,
            repairQueue: jobs?.repairQueue ?? null,
            problems,
          },
        );
      }),
    );
}
