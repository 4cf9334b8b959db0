import { randomBytes } from 'node:crypto';
import { RedisConnection } from '@cairn/service-kit';
import type { SchedulerConfig } from '../scheduler.config';
import { SchedulerQueues } from './scheduler-queues';

const REDIS_URL = process.env['CAIRN_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SHUTDOWNS = 30;

/**
 * Shutdown force-closes the workers, then cuts their Redis connections. A worker taking a
 * repeatable job schedules that job's next run on its way; if its connection is cut meanwhile,
 * BullMQ retries on "Connection is closed" without pause once closing: a loop of promises that
 * never yields, so no timer of the process fires again (a hung test run, a service pinned at 100%).
 * Before the fix this spec hung within about a dozen shutdowns.
 */
describe('SchedulerQueues shutdown', () => {
  const redis = new RedisConnection({ url: REDIS_URL, keyPrefix: `queues-${randomBytes(4).toString('hex')}:` });

  afterAll(async () => {
    await redis.close();
  });

  it('cuts no worker connection before its loop ended, however busy the worker was', async () => {
    for (let round = 0; round < SHUTDOWNS; round++) {
      const queues = new SchedulerQueues(redis, { CAIRN_REDIS_URL: REDIS_URL } as SchedulerConfig);
      const name = `tick-${round}`;
      const worker = queues.worker(name, async () => undefined);
      await queues.queue(name).upsertJobScheduler('every-5ms', { every: 5 }, { name: 'tick' });
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));

      await queues.onModuleDestroy();
      await queues.onApplicationShutdown();

      expect(worker.isRunning()).toBe(false);
      const timerFired = await Promise.race([
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 10)),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
      expect(timerFired).toBe(true);
    }
  }, 120_000);
});
