import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { AccessConfig } from './access.config';

export const ACCESS_DEFAULT_PORT = 9000;

export const AccessService: ServiceDefinition<AccessConfig> = {
  service: 'access',
  description: 'S3 API gateway: SigV4, chunking, placement, the read and write paths',
  configClass: AccessConfig,
  defaultPort: ACCESS_DEFAULT_PORT,
  rawBodies: true,
  module: (config, identity) => ({
    module: class AccessAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config })],
  }),
};
