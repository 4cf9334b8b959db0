import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { applyClusterAuth, ClusterCredentials, ServiceExceptionFilter, type BaseServiceConfig } from '@cairn/service-kit';
import { ChunksModule } from '../chunks/chunks.module';
import type { StorageChunksConfig } from '../chunks/storage-config';

/**
 * A storage node's data plane alone (no NATS, no service kit), for tests and benchmarks that need
 * real nodes on ephemeral ports. The service's own bootstrap is main.ts.
 */
export async function startStandaloneDataPlane(config: StorageChunksConfig, port = 0): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [ChunksModule.forRoot(config)] })
  class StandaloneDataPlaneModule {}
  const app = await NestFactory.create(StandaloneDataPlaneModule, { bodyParser: false, logger: false });
  // The same door as the service's: only requests signed with the cluster secret (CAIRN_CLUSTER_SECRET).
  applyClusterAuth(app, ClusterCredentials.fromConfig({ CAIRN_CLUSTER_SECRET: process.env['CAIRN_CLUSTER_SECRET'], CAIRN_AUTH_MAX_SKEW_MS: 30_000 } as BaseServiceConfig, 'storage/standalone'), {
    CAIRN_METRICS_AUTH: 'token',
  });
  app.useGlobalFilters(new ServiceExceptionFilter());
  await app.listen(port, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

/**
 * Run as a script: serves CAIRN_DATA_DIR on CAIRN_PORT (0 = any), keeping CAIRN_STORAGE_RESERVE_BYTES
 * free if given, and prints one JSON line with its URL once it listens, so a parent process can
 * start real nodes and kill them.
 */
if (require.main === module) {
  const dataDir = process.env['CAIRN_DATA_DIR'];
  if (!dataDir) throw new Error('CAIRN_DATA_DIR is required');
  const reserve = process.env['CAIRN_STORAGE_RESERVE_BYTES'];
  startStandaloneDataPlane({ dataDir, ...(reserve === undefined ? {} : { reserveBytes: Number(reserve) }) }, Number(process.env['CAIRN_PORT'] ?? 0)).then(
    ({ app, url }) => {
      process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
      const stop = () => void app.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
