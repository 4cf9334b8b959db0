import type { Command } from 'commander';
import type { Presets, SingleBar } from 'cli-progress';
import type { JobsReplyWire } from '../domain/admin-api.types';
import { formatDuration, parseDurationMs } from '../domain/duration';
import { CliError, ExitCodes } from '../domain/exit-codes';
import { formatPercent, formatRate, renderTable } from '../domain/format';
import { formatAmount, formatProgressLine, listJobs, watchStep, type JobView, type WatchMemory } from '../domain/jobs';
import { action, type CliIo, type CommandContext } from './context';

/** How often `jobs watch` polls unless told otherwise. */
export const WATCH_INTERVAL_DEFAULT = '1s';
/** An id seen nowhere, with no sweep running that it could be waiting behind, is unknown after this. */
export const WATCH_UNKNOWN_GRACE_MS = 15_000;
/** The scheduler may restart during a watch; calls that fail to connect are retried for this long. */
export const WATCH_UNREACHABLE_GRACE_MS = 15_000;
const BAR_STEPS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function registerJobs(program: Command, io: CliIo): void {
  const jobs = program.command('jobs').description('background jobs: the repair sweep (repair, rebalance, gc) and scrub per node');

  jobs
    .command('list')
    .description('running and recent jobs with progress, rate and ETA')
    .action(
      action(io, async (ctx) => {
        const reply = await ctx.admin.get<JobsReplyWire>('scheduler', '/admin/jobs');
        const views = listJobs(reply);
        ctx.print(
          () =>
            `${renderTable(
              ['id', 'kind', 'state', 'progress', 'done', 'rate', 'eta', 'detail'],
              views.map((j) => [j.id, j.kind, j.state, formatPercent(j.fractionDone), formatAmount(j), formatRate(j.ratePerSecond, j.rateUnit), j.finished ? null : formatDuration(j.etaSeconds), j.detail]),
              '(no jobs yet)',
            )}\nrepair queue: ${Object.entries(reply.repairQueue).map(([k, v]) => `${k} ${v}`).join(', ')}`,
          { jobs: views, repairQueue: reply.repairQueue, workers: reply.workers ?? [] },
        );
      }),
    );

  jobs
    .command('watch <id>')
    .description('follow one job (a sweep id, or scrub:<node>) with a live progress bar, rate and ETA until it finishes')
    .option('--interval <duration>', 'how often to poll, e.g. 500ms or 2s', WATCH_INTERVAL_DEFAULT)
    .option('--timeout <duration>', 'give up (exit 1) if the job has not finished by then')
    .action(
      action(io, async (ctx, id: string, opts: { interval: string; timeout?: string }) => {
        const intervalMs = parseDurationMs(opts.interval);
        const timeoutMs = opts.timeout === undefined ? null : parseDurationMs(opts.timeout);
        await watch(ctx, id, intervalMs, timeoutMs);
      }),
    );
}

/** Where progress goes: a redrawn bar on a terminal, one line per change elsewhere, JSON lines with --json. */
export interface ProgressSink {
  waiting(text: string): void;
  update(job: JobView): void;
  stop(): void;
}

export function sinkFor(ctx: CommandContext): ProgressSink {
  if (ctx.json) {
    return {
      waiting: (text) => ctx.line(JSON.stringify({ state: 'waiting', detail: text })),
      update: (job) => ctx.line(JSON.stringify(job)),
      stop: () => undefined,
    };
  }
  if (ctx.io.stdout.isTTY) {
    // Loaded only where a bar is drawn: every other command starts without it.
    const progress = require('cli-progress') as { SingleBar: typeof SingleBar; Presets: typeof Presets };
    // {eta} and {percentage} are cli-progress's own guesses; the scheduler's figures go in as payload.
    const bar = new progress.SingleBar(
      { format: '{bar} {pct} | {amount} | {rate} | ETA {etaText} | {state} {detail}', stream: ctx.io.stdout as NodeJS.WritableStream, hideCursor: true, barsize: 30, clearOnComplete: false },
      progress.Presets.shades_classic,
    );
    let started = false;
    const payload = (job: JobView | null, waitingText = '') =>
      job
        ? { pct: formatPercent(job.fractionDone), amount: formatAmount(job), rate: formatRate(job.ratePerSecond, job.rateUnit), etaText: job.finished ? '0s' : formatDuration(job.etaSeconds), state: job.state, detail: job.detail }
        : { pct: '-', amount: '-', rate: '-', etaText: '-', state: 'waiting', detail: waitingText };
    return {
      waiting: (text) => {
        if (!started) bar.start(BAR_STEPS, 0, payload(null, text));
        else bar.update(0, payload(null, text));
        started = true;
      },
      update: (job) => {
        const value = Math.round(job.fractionDone * BAR_STEPS);
        if (!started) bar.start(BAR_STEPS, value, payload(job));
        else bar.update(value, payload(job));
        started = true;
      },
      stop: () => {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let last = '';
  const emit = (text: string) => {
    if (text !== last) ctx.line(text);
    last = text;
  };
  return { waiting: (text) => emit(`waiting: ${text}`), update: (job) => emit(formatProgressLine(job)), stop: () => undefined };
}

async function watch(ctx: CommandContext, id: string, intervalMs: number, timeoutMs: number | null): Promise<void> {
  const sink = sinkFor(ctx);
  const startedMs = Date.now();
  let memory: WatchMemory = {};
  let unreachableSinceMs: number | null = null;
  try {
    for (;;) {
      let reply: JobsReplyWire;
      try {
        reply = await ctx.admin.get<JobsReplyWire>('scheduler', '/admin/jobs');
        unreachableSinceMs = null;
      } catch (error) {
        if (!(error instanceof CliError) || error.exitCode !== ExitCodes.unreachable) throw error;
        unreachableSinceMs ??= Date.now();
        if (Date.now() - unreachableSinceMs > WATCH_UNREACHABLE_GRACE_MS) throw error;
        sink.waiting(`scheduler not answering (${error.message})`);
        await sleep(intervalMs);
        continue;
      }
      const step = watchStep(reply, id, memory);
      memory = step.memory;
      if (step.kind === 'found') {
        sink.update(step.job);
        if (step.job.finished) {
          sink.stop();
          if (step.job.failed) throw new CliError(ExitCodes.failed, `job ${id} failed: ${step.job.error ?? 'no reason given'}`);
          if (!ctx.json) ctx.line(`job ${id} done${step.job.startedAt && step.job.finishedAt ? ` in ${formatDuration((Date.parse(step.job.finishedAt) - Date.parse(step.job.startedAt)) / 1000)}` : ''}`);
          return;
        }
      } else if (step.sweepRunning || Date.now() - startedMs < WATCH_UNKNOWN_GRACE_MS) {
        sink.waiting(step.sweepRunning ? `job ${id} is queued behind the running sweep` : `job ${id} has not started yet`);
      } else {
        throw new CliError(ExitCodes.failed, `no job ${id}: not running, queued or recent (see cairn jobs list)`);
      }
      if (timeoutMs !== null && Date.now() - startedMs > timeoutMs) throw new CliError(ExitCodes.failed, `job ${id} has not finished after ${formatDuration(timeoutMs / 1000)} (still running; watch again to follow it)`);
      await sleep(intervalMs);
    }
  } finally {
    sink.stop();
  }
}
