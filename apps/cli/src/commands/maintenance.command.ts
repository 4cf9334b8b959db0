import type { Command } from 'commander';
import type { JobsReplyWire, ScrubNodeWire, SweepReportWire } from '../domain/admin-api.types';
import { formatDuration } from '../domain/duration';
import { formatBytes, formatPercent, formatRate, renderFields, renderTable } from '../domain/format';
import { SCRUB_JOB_PREFIX, sweepJob } from '../domain/jobs';
import { action, type CliIo } from './context';

export function registerMaintenance(program: Command, io: CliIo): void {
  const scrub = program.command('scrub').description('scrub: every node re-hashes its chunks, corrupt ones are repaired');
  scrub
    .command('now [nodeIds...]')
    .description('start a fresh scrub pass at the fastest pace on the named nodes (all when none)')
    .action(
      action(io, async (ctx, nodeIds: string[]) => {
        const reply = await ctx.admin.post<{ started: string[] }>('scheduler', '/admin/scrub', { body: nodeIds.length > 0 ? { nodeIds } : {} });
        ctx.print(
          () =>
            reply.started.length === 0
              ? 'no node scrubbing: none of the named nodes is a ring member'
              : `scrubbing now: ${reply.started.join(', ')}\nfollow one with: cairn jobs watch ${SCRUB_JOB_PREFIX}${reply.started[0]}`,
          { started: reply.started, jobIds: reply.started.map((n) => `${SCRUB_JOB_PREFIX}${n}`) },
        );
      }),
    );
  scrub
    .command('status')
    .description('scrub progress and coverage per node')
    .action(
      action(io, async (ctx) => {
        const reply = await ctx.admin.get<{ nodes: ScrubNodeWire[] }>('scheduler', '/admin/scrub');
        ctx.print(
          () =>
            renderTable(
              ['node', 'state', 'pass', 'verified', 'pace', 'eta', 'corrupt (total)', 'oldest verified'],
              reply.nodes.map((n) => [
                n.nodeId,
                n.urgent ? 'scrubbing' : 'paced',
                formatPercent(n.progress.fractionDone),
                `${n.pass.verifiedChunks} chunks`,
                formatRate(n.paceBytesPerSecond, 'bytes'),
                formatDuration(n.progress.etaSeconds),
                n.corruptFoundTotal,
                n.coverage.oldestVerifiedAgeSeconds === null ? 'never' : `${formatDuration(n.coverage.oldestVerifiedAgeSeconds)} ago`,
              ]),
            ),
          reply,
        );
      }),
    );

  const repair = program.command('repair').description('repair: chunks with missing or corrupt copies are copied back');
  repair
    .command('status')
    .description('what repair is doing: the queue of single-chunk repairs and the sweep that finds what is missing')
    .action(
      action(io, async (ctx) => {
        const reply = await ctx.admin.get<JobsReplyWire>('scheduler', '/admin/jobs');
        const running = reply.sweep.running;
        const last = reply.sweep.lastComplete;
        const summary = (r: SweepReportWire | null) =>
          r
            ? {
                id: r.id,
                state: r.state,
                trigger: r.trigger,
                startedAt: r.startedAt,
                finishedAt: r.finishedAt ?? null,
                repair: r.work.repair,
                lostChunks: r.survey.lostChunks,
                undecidedChunks: r.survey.undecidedChunks ?? 0,
                leftOut: r.leftOut ?? [],
                failures: r.failures,
                lastFailure: r.lastFailure ?? null,
              }
            : null;
        const json = { queue: reply.repairQueue, running: summary(running), lastComplete: summary(last) };
        ctx.print(() => {
          const lines = [`repair queue: ${Object.entries(reply.repairQueue).map(([k, v]) => `${k} ${v}`).join(', ')}`];
          for (const [title, r] of [['running sweep', running], ['last complete sweep', last]] as const) {
            if (!r) {
              lines.push(`${title}: none`);
              continue;
            }
            const w = r.work.repair;
            const job = sweepJob(r);
            lines.push(
              '',
              `${title} ${r.id} (${r.trigger})`,
              renderFields([
                ['state', r.state],
                ['repair copies', `${w.doneItems}/${w.totalItems} chunks, ${formatBytes(w.doneBytes)}/${formatBytes(w.totalBytes)} (${formatPercent(w.fractionDone)})`],
                ['rate', formatRate(w.ratePerSecond, w.rateUnit)],
                ['eta', r.state === 'done' ? 'done' : formatDuration(w.etaSeconds)],
                ['lost chunks', r.survey.lostChunks],
                ['undecided chunks', r.survey.undecidedChunks ?? 0],
                ['nodes left out', (r.leftOut ?? []).join(', ') || 'none'],
                ['failures', r.failures > 0 ? `${r.failures} (last: ${r.lastFailure ?? '?'})` : 0],
                ['sweep', `${job.state}, ${job.detail}`],
              ]),
            );
          }
          return lines.join('\n');
        }, json);
      }),
    );
  repair
    .command('now')
    .description('run the repair sweep now (repair, rebalance and garbage collection); prints the job id to watch')
    .action(
      action(io, async (ctx) => {
        const reply = await ctx.admin.post<{ queued: boolean; jobId: string }>('scheduler', '/admin/sweep');
        ctx.print(() => `${reply.queued ? 'sweep queued' : 'a sweep was already waiting'}: job ${reply.jobId} (follow it: cairn jobs watch ${reply.jobId})`, reply);
      }),
    );
}
