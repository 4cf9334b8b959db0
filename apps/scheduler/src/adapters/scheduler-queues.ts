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

/**
 * BullMQ queues and workers on the service's Redis, under the namespace's key prefix. BullMQ
 * wants a connection of its own per queue and worker (workers block on theirs).
 */
@Injectable()
export class SchedulerQueues implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('SchedulerQueues');
  readonly prefix: string;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
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
    const worker = new Worker<T>(name, processor, { maxStalledCount: DEFAULT_MAX_STALLS, ...options, connection: this.connection(), prefix: this.prefix });
    worker.on('error', (error) => this.logger.warn(`worker ${name}: ${error.message}`));
    this.workers.push(worker as Worker);
    return worker;
  }

  /** Aborts on shutdown: jobs in flight stop at their next step and are taken up again after a restart. */
  get shutdownSignal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Stops taking jobs and abandons the ones in flight (BullMQ hands a stalled job to the next worker). */
  async onModuleDestroy(): Promise<void> {
    this.stopping.abort(new Error('the scheduler is shutting down'));
    await Promise.all(this.workers.map((w) => w.close(true).catch(() => undefined)));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    for (const c of this.connections) c.disconnect();
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
