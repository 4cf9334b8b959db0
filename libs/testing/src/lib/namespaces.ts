import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { NatsConnectionManager, deleteNamespaceStreams } from '@cairn/messaging';
import { redisPrefixForNamespace } from '@cairn/service-kit';

export const TEST_NATS_URL = process.env.CAIRN_NATS_URL ?? 'nats://127.0.0.1:4222';
export const TEST_DATABASE_URL = process.env.CAIRN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.CAIRN_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A port nothing listens on: the way tests make NATS "unreachable". */
export const UNREACHABLE_NATS_URL = 'nats://127.0.0.1:1';

/** A fresh CAIRN_NS for one test file: streams, consumers, schemas and Redis keys all carry it. */
export function testNamespace(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** Removes everything a namespace left behind on the real NATS, Postgres and Redis. */
export async function dropNamespace(namespace: string): Promise<void> {
  if (!namespace) throw new Error('refusing to drop the default namespace');
  const nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'test', serviceName: 'cleanup', instance: 'cleanup' });
  try {
    await deleteNamespaceStreams(await nats.jetstreamManager(), namespace);
  } finally {
    await nats.close();
  }
  const pg = new Client({ connectionString: TEST_DATABASE_URL });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`%\\_${namespace.toLowerCase()}`]);
    for (const { nspname } of rows) await pg.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await pg.end();
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const prefix = redisPrefixForNamespace(namespace);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
