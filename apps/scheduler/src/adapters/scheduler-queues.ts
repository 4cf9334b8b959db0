import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type Processor, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisConnection, redisTlsOptions, SERVICE_CONFIG } from '@cairn/service-kit';
import type { SchedulerConfig } from '../scheduler.config';

export const QueueNames = {
  /** One job per chunk replica to bring back (from events: missed writes, corruption, read failovers). */
  repair: 'repair',
  /** The periodic sweep: repair what events missed, rebalance after ring changes, collect garbage. */
  sweep: 'sweep',
  /** Paced re-hashing of every node's chunks. */
  scrub: 'scrub',
} as const;

/**
 * How often a job may lose its worker (kill -9, a node restart) and still be taken over. BullMQ's
 * default of 1 fails a job for good at the second death, before any worker runs it again; every
 * job here resumes from its saved progress or starts over harmlessly, so a death is not its fault.
 */
export const DEFAULT_MAX_STALLS = 10;

/** How long shutdown waits for force-closed workers' loops to end before cutting connections. */
const WORKER_LOOP_END_WAIT_MS = 10_000;
const WORKER_LOOP_POLL_MS = 20;

/**
 * BullMQ queues and workers on the service's Redis, under the namespace's key prefix. BullMQ
 * wants a connection of its own per queue and worker (workers block on theirs).
 */
@Injectable()
export class SchedulerQueues implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('SchedulerQueues');
  readonly prefix: string;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: { readonly worker: Worker; readonly connection: Redis }[] = [];
  private readonly connections: Redis[] = [];
  private readonly stopping = new AbortController();
  /** TLS for the queues' own connections (rediss://, CAIRN_REDIS_TLS_CA_FILE), read once. */
  private readonly tls: ReturnType<typeof redisTlsOptions>;

  constructor(
    redis: RedisConnection,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
  ) {
    this.prefix = `${redis.options.keyPrefix}bull`;
    this.tls = redisTlsOptions(config.CAIRN_REDIS_URL, config.CAIRN_REDIS_TLS_CA_FILE);
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection(), prefix: this.prefix });
      queue.on('error', (error) => this.logger.warn(`queue ${name}: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  worker<T>(name: string, processor: Processor<T>, options: Omit<WorkerOptions, 'connection' | 'prefix'> = {}): Worker<T> {
    const connection = this.connection();
    const worker = new Worker<T>(name, processor, { maxStalledCount: DEFAULT_MAX_STALLS, ...options, connection, prefix: this.prefix });
    worker.on('error', (error) => this.logger.warn(`worker ${name}: ${error.message}`));
    this.workers.push({ worker: worker as Worker, connection });
    return worker;
  }

  /** Aborts on shutdown: jobs in flight stop at their next step and are taken up again after a restart. */
  get shutdownSignal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Stops taking jobs and abandons the ones in flight (BullMQ hands a stalled job to the next worker). */
  async onModuleDestroy(): Promise<void> {
    this.stopping.abort(new Error('the scheduler is shutting down'));
    await Promise.all(this.workers.map(({ worker }) => worker.close(true).catch(() => undefined)));
  }

  /**
   * A force-closed worker's loop may still be finishing a fetch — e.g. scheduling a repeatable
   * job's next run. BullMQ retries that on "Connection is closed" without pause once closing, so
   * its connection is cut only after its loop ended; one still running at the bound keeps its
   * connection (the process is about to end, and a spinning loop would pin a core until it does).
   */
  async onApplicationShutdown(): Promise<void> {
    const deadline = Date.now() + WORKER_LOOP_END_WAIT_MS;
    while (this.workers.some(({ worker }) => worker.isRunning()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, WORKER_LOOP_POLL_MS));
    }
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    const stillRunning = new Set(this.workers.filter(({ worker }) => worker.isRunning()).map(({ connection }) => connection));
    if (stillRunning.size > 0) this.logger.warn(`${stillRunning.size} worker loop(s) still running after ${WORKER_LOOP_END_WAIT_MS} ms; leaving their Redis connections to the process's end`);
    for (const c of this.connections) if (!stillRunning.has(c)) c.disconnect();
  }

  private connection(): Redis {
    const connection = new Redis(this.config.CAIRN_REDIS_URL, {
      ...this.tls,
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    connection.on('error', () => undefined);
    this.connections.push(connection);
    return connection;
  }
}
