import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { StorageConfig } from './storage.config';

export const STORAGE_DEFAULT_PORT = 9201;

export const StorageService: ServiceDefinition<StorageConfig> = {
  service: 'storage',
  description: 'A storage node: content-addressed chunks on local disk, verified on every write and read',
  configClass: StorageConfig,
  defaultPort: STORAGE_DEFAULT_PORT,
  rawBodies: true,
  module: (config, identity) => ({
    module: class StorageAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config })],
  }),
};
