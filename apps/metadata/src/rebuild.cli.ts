/**
 * npm run metadata:rebuild — drops the metadata projections of CAIRN_NS and replays them from the
 * META and CLUSTER streams (the same transaction as POST /admin/rebuild), printing progress.
 * Reads the service's own configuration (CAIRN_DATABASE_URL and its TLS, CAIRN_NATS_URL and its
 * credentials, CAIRN_NS); running metadata instances may stay up: their projectors wait for the
 * rebuild and continue after it.
 */
import { NatsConnectionManager } from '@cairn/messaging';
import { CAIRN_VERSION, ConfigError, loadConfig, messagingConfigOf, PostgresConnection } from '@cairn/service-kit';
import { metadataSchemaName } from './adapters/metadata-schema';
import { METADATA_MIGRATIONS } from './adapters/migrations';
import { databaseTlsOf, MetadataConfig } from './metadata.config';
import { ProjectionRebuild } from './projections/projection-rebuild';
import { AccessKeySecrets } from './access-key/access-key-secrets';
import { METADATA_DEFAULT_PORT } from './service';

async function main(): Promise<void> {
  const config = loadConfig(MetadataConfig, process.env, { CAIRN_INSTANCE: 'metadata-rebuild', CAIRN_HTTP_PORT: METADATA_DEFAULT_PORT });
  const namespace = config.CAIRN_NS ?? '';
  const postgres = new PostgresConnection({
    url: config.CAIRN_DATABASE_URL,
    tls: databaseTlsOf(config),
    schema: metadataSchemaName(namespace),
    migrations: [...METADATA_MIGRATIONS],
  });
  // As the metadata service: the same NATS user, password or credentials file, and TLS.
  const nats = new NatsConnectionManager(
    messagingConfigOf({ service: 'metadata', instance: 'metadata-rebuild', region: config.CAIRN_REGION, namespace, version: CAIRN_VERSION }, config),
  );
  const started = Date.now();
  try {
    const rebuild = new ProjectionRebuild(await postgres.ready(), nats, namespace, AccessKeySecrets.fromConfig(config));
    const result = await rebuild.run((stream, p) => {
      if (p.replayed === 0 || p.replayed === p.target || p.replayed % 5_000 === 0) {
        process.stdout.write(`[rebuild] ${stream}: ${p.replayed} events replayed, ${p.applied} applied, ${p.parked} parked stepped over, checkpoint ${p.checkpoint}/${p.target}\n`);
      }
    });
    process.stdout.write(`[rebuild] done in ${Date.now() - started} ms: ${JSON.stringify(result)}\n`);
  } finally {
    await nats.close();
    await postgres.close();
  }
}

main().catch((error) => {
  if (error instanceof ConfigError) process.stderr.write(`[rebuild] ${error.message}\n`);
  else process.stderr.write(`[rebuild] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
