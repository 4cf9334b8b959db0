import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { describeError } from '@cairn/chunk-client';
import { drillProfileOf, openDrillFederation, runDrill, type DrillProfile } from '@cairn/drill';
import type { ControlGroupView } from '@cairn/protocol';
import { SERVICE_CONFIG, SERVICE_IDENTITY, WorkerRegistry, type NamedWorker, type ServiceIdentity, type WorkerStatus } from '@cairn/service-kit';
import { SchedulerQueues } from '../adapters/scheduler-queues';
import { scheduledDrillDecision } from '../domain/drill-schedule';
import type { SchedulerConfig } from '../scheduler.config';

export const DRILL_QUEUE = 'drill';
const DRILL_SCHEDULER_ID = 'drill-every';
/** The scheduled drill's clients write this long after the new home took its first write. */
const DRILL_WRITE_MS = 3_000;
/** How long the drill waits for the failover, and twice that for convergence. */
const DRILL_TIMEOUT_MS = 60_000;

/**
 * Disaster-recovery drills on a schedule (docs/failover.md): a BullMQ repeatable job, off unless
 * CAIRN_DRILL_INTERVAL_MS is set, running libs/drill's drill — the one `cairn drill run` runs —
 * against the federation CAIRN_DRILL_PROFILE lists. It runs here rather than in sync because a
 * drill is a client of the whole federation (S3 writes through every region, the fault proxy),
 * not of one region's internals; the control group holds the one-drill-at-a-time claim, so
 * schedulers in several regions never drill at once. The report is a DrillReported event kept by
 * the new home's sync, as the CLI's is.
 */
@Injectable()
export class DrillQueue implements OnApplicationBootstrap, NamedWorker {
  readonly name = 'drill';
  private readonly logger = new Logger('DrillQueue');
  private profile: DrillProfile | null = null;
  private running = false;
  private runs = 0;
  private lastRunAt?: string;
  private lastError?: { message: string; at: string };
  private lastOutcome = 'no drill yet';

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  get enabled(): boolean {
    return this.config.CAIRN_DRILL_INTERVAL_MS > 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    const queue = this.queues.queue(DRILL_QUEUE);
    if (!this.enabled) {
      // Drills switched off: a schedule left from an earlier start must not fire.
      await queue.removeJobScheduler(DRILL_SCHEDULER_ID).catch(() => undefined);
      return;
    }
    // A profile that cannot drill stops the start, not the first drill hours later.
    this.profile = drillProfileOf(JSON.parse(readFileSync(this.config.CAIRN_DRILL_PROFILE!, 'utf8')));
    if (!this.profile.regions.some((r) => r.name === this.config.CAIRN_DRILL_REGION)) {
      throw new Error(`CAIRN_DRILL_REGION ${this.config.CAIRN_DRILL_REGION} is not a region of ${this.config.CAIRN_DRILL_PROFILE} (${this.profile.regions.map((r) => r.name).join(', ')})`);
    }
    this.workers.register(this);
    this.queues.worker(DRILL_QUEUE, () => this.drill(), { concurrency: 1 });
    await queue
      .upsertJobScheduler(DRILL_SCHEDULER_ID, { every: this.config.CAIRN_DRILL_INTERVAL_MS }, { name: 'drill', data: {}, opts: { removeOnComplete: 20, removeOnFail: 20, attempts: 1 } })
      .catch((error) => this.logger.warn(`could not schedule drills: ${describeError(error)}`));
    this.logger.log(`drills every ${this.config.CAIRN_DRILL_INTERVAL_MS} ms: ${this.config.CAIRN_DRILL_REGION} taken out, bucket ${this.config.CAIRN_DRILL_BUCKET}`);
  }

  /** One scheduled drill, when the federation is fit for one; skipped (not failed) otherwise. */
  async drill(): Promise<void> {
    const profile = this.profile;
    const region = this.config.CAIRN_DRILL_REGION;
    if (!profile || !region || this.running) return;
    this.running = true;
    const federation = openDrillFederation(profile);
    try {
      const view = await firstAnswer(federation.regions.filter((r) => r.name !== region).map((r) => () => r.admin.call<ControlGroupView>('sync', 'GET', '/control')));
      const decision = scheduledDrillDecision(region, view, Date.now());
      if (!decision.run) {
        this.lastOutcome = `skipped: ${decision.reason}`;
        this.logger.log(`scheduled drill ${this.lastOutcome}`);
        return;
      }
      const report = await runDrill(
        federation.regions,
        federation.links,
        { region, bucket: this.config.CAIRN_DRILL_BUCKET, writeMs: DRILL_WRITE_MS, timeoutMs: DRILL_TIMEOUT_MS, trigger: 'schedule', by: `scheduler ${this.identity.instance} in ${this.identity.region}` },
        (text) => this.logger.log(text),
      );
      this.lastOutcome = `${report.ok ? 'PASS' : 'FAIL'} ${report.id}: RTO ${report.rtoSeconds ?? '-'} s, RPO ${report.rpoObjects} objects / ${report.rpoSeconds} s${report.ok ? '' : `; ${report.problems.join('; ')}`}`;
      this.logger[report.ok ? 'log' : 'warn'](`scheduled drill ${this.lastOutcome}`);
      this.lastError = undefined;
    } catch (error) {
      this.lastError = { message: describeError(error), at: new Date().toISOString() };
      this.lastOutcome = `failed: ${this.lastError.message}`;
      this.logger.warn(`scheduled drill ${this.lastOutcome}`);
    } finally {
      this.runs += 1;
      this.lastRunAt = new Date().toISOString();
      this.running = false;
      await federation.close();
    }
  }

  status(): WorkerStatus {
    return {
      name: this.name,
      state: this.running ? 'running' : this.lastError ? 'failed' : 'idle',
      runs: this.runs,
      ...(this.lastRunAt ? { lastRunAt: this.lastRunAt } : {}),
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      progress: { detail: this.lastOutcome },
    };
  }
}

/** The first region that answers, in order; null when none does. */
async function firstAnswer<T>(asks: readonly (() => Promise<T>)[]): Promise<T | null> {
  for (const ask of asks) {
    const answer = await ask().catch(() => null);
    if (answer) return answer;
  }
  return null;
}
