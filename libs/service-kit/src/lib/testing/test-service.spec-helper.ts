import type { Provider, Type } from '@nestjs/common';
import { deleteNamespaceStreams, NatsConnectionManager } from '@cairn/messaging';
import { randomBytes } from 'node:crypto';
import { startService, type RunningService } from '../bootstrap';
import { BaseServiceConfig } from '../config/service-config';
import { ServiceKitModule } from '../service-kit.module';

/** What a test service adds to the kit. */
export interface TestServiceParts {
  readonly controllers?: Type[];
  readonly providers?: Provider[];
}

/** A fresh namespace for one spec's service. */
export function testServiceNamespace(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** A service of `parts` on the ServiceKitModule, on a free local port, in `namespace`. */
export function startTestService(namespace: string, service: string, parts: TestServiceParts): Promise<RunningService<BaseServiceConfig>> {
  return startService(
    {
      service,
      description: 'test service',
      configClass: BaseServiceConfig,
      defaultPort: 0,
      module: (config, identity) => ({ module: class TestAppModule {}, imports: [ServiceKitModule.forRoot({ identity, config })], ...parts }),
    },
    { ...process.env, CAIRN_NS: namespace, CAIRN_HTTP_PORT: '0', CAIRN_HTTP_HOST: '127.0.0.1', CAIRN_LOG_LEVEL: 'warn' },
  );
}

/** Closes what startTestService started and deletes the namespace's streams. */
export async function stopTestService(namespace: string, running: RunningService<BaseServiceConfig> | undefined): Promise<void> {
  await running?.close();
  const nats = new NatsConnectionManager({ natsUrl: 'nats://127.0.0.1:4222', namespace, region: 'test', serviceName: 'cleanup', instance: 'cleanup' });
  await deleteNamespaceStreams(await nats.jetstreamManager(), namespace);
  await nats.close();
}
