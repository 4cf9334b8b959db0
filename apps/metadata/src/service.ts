import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { MetadataConfig } from './metadata.config';

export const METADATA_DEFAULT_PORT = 9100;

export const MetadataService: ServiceDefinition<MetadataConfig> = {
  service: 'metadata',
  description: 'The event-sourced namespace: buckets, objects, versions, uploads, access keys, membership',
  configClass: MetadataConfig,
  defaultPort: METADATA_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class MetadataAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config, postgres: { url: config.CAIRN_DATABASE_URL } })],
  }),
};
