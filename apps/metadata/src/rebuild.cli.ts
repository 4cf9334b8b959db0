/**
 * npm run metadata:rebuild — drops the metadata projections of CAIRN_NS and replays them from the
 * META and CLUSTER streams (the same transaction as POST /admin/rebuild), printing progress.
 * Reads the service's own configuration (CAIRN_DATABASE_URL, CAIRN_NATS_URL, CAIRN_NS); running
 * metadata instances may stay up: their projectors wait for the rebuild and continue after it.
 */
import { NatsConnectionManager } from '@cairn/messaging';
import { loadConfig, PostgresConnection } from '@cairn/service-kit';
import { metadataSchemaName } from './adapters/metadata-schema';
import { METADATA_MIGRATIONS } from './adapters/migrations';
import { MetadataConfig } from './metadata.config';
import { ProjectionRebuild } from './projections/projection-rebuild';
import { METADATA_DEFAULT_PORT } from './service';

async function main(): Promise<void> {
  const config = loadConfig(MetadataConfig, process.env, { CAIRN_INSTANCE: 'metadata-rebuild', CAIRN_HTTP_PORT: METADATA_DEFAULT_PORT });
  const namespace = config.CAIRN_NS ?? '';
  const postgres = new PostgresConnection({
    url: config.CAIRN_DATABASE_URL,
    schema: metadataSchemaName(namespace),
    migrations: [...METADATA_MIGRATIONS],
  });
  const nats = new NatsConnectionManager({
    natsUrl: config.CAIRN_NATS_URL,
    namespace,
    region: config.CAIRN_REGION,
    serviceName: 'metadata',
    instance: 'metadata-rebuild',
  });
  const started = Date.now();
  try {
    const rebuild = new ProjectionRebuild(await postgres.ready(), nats, namespace);
    const result = await rebuild.run((stream, p) => {
      if (p.replayed === 0 || p.replayed === p.target || p.replayed % 5_000 === 0) {
        process.stdout.write(`[rebuild] ${stream}: ${p.replayed} events replayed, ${p.applied} applied, checkpoint ${p.checkpoint}/${p.target}\n`);
      }
    });
    process.stdout.write(`[rebuild] done in ${Date.now() - started} ms: ${JSON.stringify(result)}\n`);
  } finally {
    await nats.close();
    await postgres.close();
  }
}

main().catch((error) => {
  process.stderr.write(`[rebuild] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
