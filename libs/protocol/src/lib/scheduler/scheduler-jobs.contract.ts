/**
 * The scheduler's jobs summary over NATS request/reply (`rpc.scheduler.jobs.summary`): what the
 * region's background jobs are doing, flattened to one progress line per job, for monitoring's
 * dashboard (which does not know the scheduler's address) and any other reader. The scheduler's
 * own `GET /admin/jobs` keeps the full reports; this is the part an operator watches.
 */
export const SCHEDULER_SERVICE = 'scheduler';

export const SchedulerRpc = {
  jobsSummary: 'jobs.summary',
} as const;
export type SchedulerRpcPattern = (typeof SchedulerRpc)[keyof typeof SchedulerRpc];

/** The `@MessagePattern` of a scheduler handler: `schedulerPattern(SchedulerRpc.jobsSummary)` = 'scheduler.jobs.summary'. */
export function schedulerPattern(pattern: SchedulerRpcPattern): string {
  return `${SCHEDULER_SERVICE}.${pattern}`;
}

export type JobsSummaryRequest = Record<string, never>;

/** The kinds of work the sweep and scrub do (docs/architecture.md §6). */
export type JobKind = 'repair' | 'rebalance' | 'gc' | 'scrub' | 'lifecycle';

/**
 * - `surveying`: the sweep is listing nodes and references; its work has no total yet.
 * - `running`: work being done now at the job's full pace (a sweep's copies, a "scrub now").
 * - `paced`: the background scrub, spread over its period.
 * - `done`, `failed`: the job (or the last sweep) finished.
 */
export type JobState = 'surveying' | 'running' | 'paced' | 'done' | 'failed';

export interface JobProgressView {
  /** Stable while the job lasts: `sweep:<sweepId>:<kind>`, `scrub:<nodeId>`. */
  readonly id: string;
  readonly kind: JobKind;
  /** One line for a human: "sweep (admin) — repair", "scrub storage-1". */
  readonly title: string;
  readonly state: JobState;
  /** The storage node the job works on, for per-node jobs (scrub). */
  readonly nodeId?: string;
  readonly doneItems: number;
  readonly totalItems: number;
  readonly doneBytes: number;
  readonly totalBytes: number;
  /** 0..1, of bytes where the job moves bytes, else of items. */
  readonly fractionDone: number;
  /** Bytes per second (items per second when rateUnit is 'items'); null before anything is done. */
  readonly ratePerSecond: number | null;
  readonly rateUnit: 'bytes' | 'items';
  /** Null while there is no rate to go by; 0 once done. */
  readonly etaSeconds: number | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Extra words: what a sweep is surveying, a scrub's coverage, the last failure. */
  readonly detail?: string;
}

export interface JobsSummaryReply {
  /** The scheduler instance that answered. */
  readonly instance: string;
  readonly at: string;
  /** The current or last sweep's repair, rebalance and GC, then scrub per node. */
  readonly jobs: readonly JobProgressView[];
  /** Event-driven repairs (one job per chunk and node) waiting in the queue. */
  readonly repairQueue: { readonly waiting: number; readonly active: number; readonly delayed: number; readonly failed: number };
}
