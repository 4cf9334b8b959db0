import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkerProgress, WorkerStatus } from './worker';
import type { WorkerRegistry } from './worker-registry';

type ProgressFigure = keyof Pick<WorkerProgress, 'doneItems' | 'totalItems' | 'doneBytes' | 'totalBytes' | 'etaSeconds'>;

const PROGRESS_GAUGES: readonly { readonly name: string; readonly help: string; readonly figure: ProgressFigure }[] = [
  { name: 'cairn_worker_progress_done_items', help: 'Items the worker has done, as it last reported', figure: 'doneItems' },
  { name: 'cairn_worker_progress_total_items', help: 'Items the worker has to do, as it last reported', figure: 'totalItems' },
  { name: 'cairn_worker_progress_done_bytes', help: 'Bytes the worker has done, as it last reported', figure: 'doneBytes' },
  { name: 'cairn_worker_progress_total_bytes', help: 'Bytes the worker has to do, as it last reported', figure: 'totalBytes' },
  { name: 'cairn_worker_eta_seconds', help: 'Seconds the worker expects to need to finish, when it can tell', figure: 'etaSeconds' },
];

/**
 * Per-worker gauges read from each registered worker's status() at scrape time, so a worker
 * reports once (its status) and the figures can never drift from /health.
 */
export function registerWorkerMetrics(registry: Registry, workers: WorkerRegistry): void {
  const gauge = (name: string, help: string, read: (s: WorkerStatus) => number | null | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['worker'],
      registers: [registry],
      collect(this: Gauge<'worker'>) {
        // A worker unregistered since the last scrape must disappear, not keep its last value.
        this.reset();
        for (const status of workers.list()) {
          const value = read(status);
          if (typeof value === 'number' && Number.isFinite(value)) this.set({ worker: status.name }, value);
        }
      },
    });
  gauge('cairn_worker_up', 'Whether the worker runs: 0 once stopped or while its last run failed', (s) => (s.state === 'failed' || s.state === 'stopped' ? 0 : 1));
  // A count that only grows is a counter (rate() and resets work on it), read at scrape time too.
  new Counter({
    name: 'cairn_worker_runs_total',
    help: 'Runs the worker has finished, failed ones included',
    labelNames: ['worker'],
    registers: [registry],
    collect(this: Counter<'worker'>) {
      this.reset();
      for (const status of workers.list()) this.inc({ worker: status.name }, status.runs);
    },
  });
  for (const { name, help, figure } of PROGRESS_GAUGES) gauge(name, help, (s) => s.progress?.[figure]);
}
