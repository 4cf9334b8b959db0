import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { RunningService } from '../bootstrap';
import type { BaseServiceConfig } from '../config/service-config';
import { startTestService, stopTestService, testServiceNamespace } from '../testing/test-service.spec-helper';
import { ClusterCredentials } from '../security/cluster-credentials';
import { IntervalWorker } from './interval.worker';
import type { WorkerStatus } from './worker';
import { WorkerRegistry } from './worker-registry';

const SWEEP_EVERY_MS = 20;

@Injectable()
class SweepWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private swept = 0;
  readonly worker = new IntervalWorker('sweep', SWEEP_EVERY_MS, async () => ({ doneItems: ++this.swept, totalItems: 1_000 }));

  constructor(private readonly workers: WorkerRegistry) {}

  onApplicationBootstrap(): void {
    this.workers.register(this.worker);
    this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
  }
}

describe('a service’s workers on /health and /metrics', () => {
  const namespace = testServiceNamespace();
  let running: RunningService<BaseServiceConfig>;

  beforeAll(async () => {
    running = await startTestService(namespace, 'workers', { providers: [SweepWorker] });
  });
  afterAll(() => stopTestService(namespace, running));

  it('lists every registered worker with its status on /health', async () => {
    await new Promise((r) => setTimeout(r, 5 * SWEEP_EVERY_MS));
    const body = (await (await fetch(`${running.url}/health`)).json()) as { workers: WorkerStatus[] };
    expect(body.workers.map((w) => w.name)).toEqual(['heartbeat', 'sweep']);
    const sweep = body.workers.find((w) => w.name === 'sweep')!;
    expect(sweep.runs).toBeGreaterThan(0);
    expect(sweep.state).not.toBe('failed');
    expect(sweep.progress).toMatchObject({ doneItems: expect.any(Number), totalItems: 1_000 });
  });

  it('exports per-worker gauges on /metrics, read at scrape time', async () => {
    const text = await (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${running.app.get(ClusterCredentials).mintOperatorToken({ role: 'read-only' }).token}` } })).text();
    expect(text).toMatch(/cairn_worker_up\{worker="sweep",service="workers",[^}]*\} 1/);
    expect(text).toMatch(/cairn_worker_up\{worker="heartbeat",[^}]*\} 1/);
    expect(text).toMatch(/cairn_worker_runs_total\{worker="sweep",[^}]*\} [1-9]/);
    expect(text).toMatch(/cairn_worker_progress_total_items\{worker="sweep",[^}]*\} 1000/);
    expect(text).not.toMatch(/cairn_worker_progress_total_items\{worker="heartbeat"/);
  });
});
