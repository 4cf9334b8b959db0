import { Logger, type LoggerService } from '@nestjs/common';
import type { NamedWorker, WorkerProgress, WorkerState, WorkerStatus } from './worker';

/** One run of an IntervalWorker; what it resolves with becomes the worker's progress. The signal aborts on stop(). */
export type WorkerTick = (signal: AbortSignal) => Promise<WorkerProgress | void>;

export interface IntervalWorkerOptions {
  /** Where failures and recoveries are logged; a Nest Logger named after the worker by default. */
  readonly logger?: Pick<LoggerService, 'log' | 'warn'>;
  /** Run once at start() instead of waiting one interval first. */
  readonly runImmediately?: boolean;
}

/**
 * A background loop as a named worker: runs `tick` every `intervalMs`, never two at once (a run
 * still going when the interval comes round is not doubled, the interval is skipped), and reports
 * its state, runs, last error and progress. A failing run is recorded and logged and the loop goes
 * on. The timer does not keep the process alive.
 */
export class IntervalWorker implements NamedWorker {
  private state: WorkerState = 'idle';
  private runs = 0;
  private lastRunAt: string | undefined;
  private lastError: string | undefined;
  private lastErrorAt: string | undefined;
  private failedLastRun = false;
  private progress: WorkerProgress | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private abort = new AbortController();
  private readonly logger: Pick<LoggerService, 'log' | 'warn'>;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly tick: WorkerTick,
    private readonly options: IntervalWorkerOptions = {},
  ) {
    if (!(intervalMs > 0)) throw new Error(`worker ${name}: interval must be positive, got ${intervalMs} ms`);
    this.logger = options.logger ?? new Logger(`Worker ${name}`);
  }

  start(): void {
    if (this.timer) return;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    if (this.state === 'stopped') this.state = 'idle';
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
    if (this.options.runImmediately) void this.run();
  }

  /** Stops the loop, aborts the run in flight and resolves once it has ended. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.inFlight;
    this.state = 'stopped';
  }

  status(): WorkerStatus {
    return {
      name: this.name,
      state: this.state,
      runs: this.runs,
      ...(this.lastRunAt === undefined ? {} : { lastRunAt: this.lastRunAt }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError, lastErrorAt: this.lastErrorAt }),
      ...(this.progress === undefined ? {} : { progress: this.progress }),
    };
  }

  private run(): Promise<void> {
    if (this.inFlight || !this.timer) return this.inFlight ?? Promise.resolve();
    this.state = 'running';
    this.inFlight = this.runOnce().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async runOnce(): Promise<void> {
    const failedBefore = this.failedLastRun;
    try {
      const progress = await this.tick(this.abort.signal);
      this.progress = progress ?? undefined;
      this.failedLastRun = false;
      this.state = this.timer ? 'idle' : 'stopped';
      if (failedBefore) this.logger.log(`${this.name} recovered`);
    } catch (error) {
      // Cut short by stop(): not a failure of the work.
      if (this.abort.signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      // A loop failing every interval (a dependency away) logs once, and again when the error changes.
      if (!failedBefore || message !== this.lastError) this.logger.warn(`${this.name} failed: ${message}`);
      this.lastError = message;
      this.lastErrorAt = new Date().toISOString();
      this.failedLastRun = true;
      this.state = this.timer ? 'failed' : 'stopped';
    } finally {
      this.runs += 1;
      this.lastRunAt = new Date().toISOString();
    }
  }
}

/**
 * `work`, or a rejection as soon as `signal` aborts: for a tick whose result is not wanted after
 * stop() and that may wait long (on a dependency that is away), so stop() does not wait on it.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
