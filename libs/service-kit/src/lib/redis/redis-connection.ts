import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import { ConfigError } from '../config/service-config';

export interface RedisOptions {
  /** redis://, or rediss:// for TLS; a password goes in it (redis://:password@host:6379). */
  readonly url: string;
  /** Every key this service writes starts with it, so namespaces never collide. */
  readonly keyPrefix: string;
  /** PEM file of the CA that signed the server's certificate (CAIRN_REDIS_TLS_CA_FILE; rediss:// only). */
  readonly tlsCaFile?: string;
}

/**
 * The TLS part of an ioredis client's options. A rediss:// URL turns TLS on by itself (checked
 * against the system CAs); a CA file makes it check against that CA instead. Throws ConfigError
 * naming the variable when the CA cannot be used.
 */
export function redisTlsOptions(url: string, tlsCaFile: string | undefined): Pick<IoRedisOptions, 'tls'> {
  if (!tlsCaFile) return {};
  if (!/^rediss:\/\//i.test(url)) {
    throw new ConfigError([`CAIRN_REDIS_TLS_CA_FILE is "${tlsCaFile}": CAIRN_REDIS_URL must then be a rediss:// URL (TLS)`]);
  }
  try {
    return { tls: { ca: readFileSync(tlsCaFile, 'utf8'), rejectUnauthorized: true } };
  } catch (error) {
    throw new ConfigError([`CAIRN_REDIS_TLS_CA_FILE is "${tlsCaFile}": cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
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
      ...redisTlsOptions(options.url, options.tlsCaFile),
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
