import { randomBytes } from 'node:crypto';
import { NatsConnectionManager } from '../lib/nats-connection';
import { deleteNamespaceStreams, ensureStreams } from '../lib/stream-provisioning';
import type { MessagingConfig } from '../lib/messaging.config';

export const NATS_URL = process.env.CAIRN_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A private namespace on the real NATS for one test file, with its streams, removed afterwards. */
export async function natsFixture(service = 'test') {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const config: MessagingConfig = { natsUrl: NATS_URL, namespace, region: 'test', serviceName: service, instance: `${service}-1` };
  const connection = new NatsConnectionManager(config);
  const jsm = await connection.jetstreamManager();
  await ensureStreams(jsm, namespace);
  return {
    namespace,
    config,
    connection,
    async teardown() {
      await deleteNamespaceStreams(await connection.jetstreamManager(), namespace);
      await connection.close();
    },
  };
}

export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
