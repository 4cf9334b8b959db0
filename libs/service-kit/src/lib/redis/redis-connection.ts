import { Redis } from 'ioredis';

export interface RedisOptions {
  readonly url: string;
  /** Every key this service writes starts with it, so namespaces never collide. */
  readonly keyPrefix: string;
}

export function redisPrefixForNamespace(namespace: string): string {
  return namespace ? `cairn:${namespace}:` : 'cairn:';
}

/**
 * One ioredis client per service that reconnects forever. BullMQ needs
 * `maxRetriesPerRequest: null`, so commands wait for a reconnect instead of failing fast; the
 * health check has its own timeout.
 */
export class RedisConnection {
  readonly client: Redis;

  constructor(readonly options: RedisOptions) {
    this.client = new Redis(options.url, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      lazyConnect: false,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    // Connection errors are reported by /health; without a listener ioredis would log each retry.
    this.client.on('error', () => undefined);
  }

  async check(): Promise<Record<string, unknown>> {
    if (this.client.status !== 'ready') throw new Error(`redis is ${this.client.status}`);
    const started = process.hrtime.bigint();
    await this.client.ping();
    return { rttMs: Number(process.hrtime.bigint() - started) / 1e6, keyPrefix: this.options.keyPrefix };
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
