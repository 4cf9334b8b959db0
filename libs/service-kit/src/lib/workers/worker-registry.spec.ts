import { Registry } from 'prom-client';
import { IntervalWorker } from './interval.worker';
import { registerWorkerMetrics } from './worker-metrics';
import { WorkerRegistry } from './worker-registry';

const INTERVAL_MS = 100;
const quiet = { log: jest.fn(), warn: jest.fn() };

describe('WorkerRegistry', () => {
  it('lists statuses by name and refuses a second worker under a taken name', () => {
    const registry = new WorkerRegistry();
    const b = new IntervalWorker('b', INTERVAL_MS, async () => undefined, { logger: quiet });
    registry.register(b);
    registry.register(new IntervalWorker('a', INTERVAL_MS, async () => undefined, { logger: quiet }));
    registry.register(b);
    expect(registry.list().map((s) => s.name)).toEqual(['a', 'b']);
    expect(() => registry.register(new IntervalWorker('a', INTERVAL_MS, async () => undefined, { logger: quiet }))).toThrow(/already registered/);
    registry.unregister('a');
    expect(registry.list().map((s) => s.name)).toEqual(['b']);
  });

  it('feeds the per-worker gauges at scrape time', async () => {
    const workers = new WorkerRegistry();
    const metrics = new Registry();
    registerWorkerMetrics(metrics, workers);
    workers.register({ name: 'scrub', status: () => ({ name: 'scrub', state: 'running', runs: 2, progress: { doneItems: 5, totalItems: 8, doneBytes: 50, totalBytes: 80, etaSeconds: 12 } }) });
    workers.register({ name: 'gc', status: () => ({ name: 'gc', state: 'failed', runs: 7, progress: { etaSeconds: null } }) });
    const text = await metrics.metrics();
    expect(text).toContain('cairn_worker_up{worker="scrub"} 1');
    expect(text).toContain('cairn_worker_up{worker="gc"} 0');
    expect(text).toContain('cairn_worker_runs_total{worker="gc"} 7');
    expect(text).toContain('cairn_worker_progress_done_items{worker="scrub"} 5');
    expect(text).toContain('cairn_worker_progress_total_items{worker="scrub"} 8');
    expect(text).toContain('cairn_worker_progress_done_bytes{worker="scrub"} 50');
    expect(text).toContain('cairn_worker_progress_total_bytes{worker="scrub"} 80');
    expect(text).toContain('cairn_worker_eta_seconds{worker="scrub"} 12');
    expect(text).not.toContain('cairn_worker_eta_seconds{worker="gc"}');

    workers.unregister('gc');
    expect(await metrics.metrics()).not.toContain('worker="gc"');
  });
});
