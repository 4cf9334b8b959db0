import path from 'node:path';
import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { ChunksModule } from './chunks/chunks.module';
import { NodeRegistration } from './node/node-registration';
import { StorageNodeTelemetry } from './node/storage-node.telemetry';
import { StorageConfig } from './storage.config';

export const STORAGE_DEFAULT_PORT = 9201;

export function dataDirOf(config: StorageConfig, instance: string): string {
  return path.resolve(config.CAIRN_DATA_DIR ?? path.join('.cairn', 'data', config.CAIRN_REGION, instance));
}

export const StorageService: ServiceDefinition<StorageConfig> = {
  service: 'storage',
  description: 'A storage node: content-addressed chunks on local disk, verified on every write and read',
  configClass: StorageConfig,
  defaultPort: STORAGE_DEFAULT_PORT,
  rawBodies: true,
  logSuccessfulRequests: (config) => config.CAIRN_STORAGE_LOG_REQUESTS,
  module: (config, identity) => ({
    module: class StorageAppModule {},
    imports: [
      ServiceKitModule.forRoot({ identity, config }),
      ChunksModule.forRoot({ dataDir: dataDirOf(config, identity.instance), smallChunkThresholdBytes: config.CAIRN_SMALL_CHUNK_BYTES, reserveBytes: config.CAIRN_STORAGE_RESERVE_BYTES }),
    ],
    providers: [StorageNodeTelemetry, NodeRegistration],
  }),
  afterListen: (app, url) => app.get(NodeRegistration).start(url),
};
