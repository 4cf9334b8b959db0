import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { MetadataAdminController } from './admin/metadata-admin.controller';
import { MetadataReadModel } from './adapters/metadata-read-model';
import { metadataSchemaName } from './adapters/metadata-schema';
import { METADATA_MIGRATIONS } from './adapters/migrations';
import { AccessKeyCommandsHandler } from './commands/access-key-commands.handler';
import { BucketCommandsHandler } from './commands/bucket-commands.handler';
import { MembershipCommandsHandler } from './commands/membership-commands.handler';
import { MetadataCommandContext } from './commands/metadata-command-context';
import { ObjectCommandsHandler } from './commands/object-commands.handler';
import { RootKeyBootstrap } from './commands/root-key.bootstrap';
import { UploadCommandsHandler } from './commands/upload-commands.handler';
import { MetadataConfig } from './metadata.config';
import { MetaProjectionWorker } from './projections/meta-projection.worker';
import { ProjectionConsumer } from './projections/projection.consumer';
import { ProjectionTracker } from './projections/projection-tracker';
import { MetadataRpcController } from './rpc/metadata-rpc.controller';

export const METADATA_DEFAULT_PORT = 9100;

export const MetadataService: ServiceDefinition<MetadataConfig> = {
  service: 'metadata',
  description: 'The event-sourced namespace: buckets, objects, versions, uploads, access keys, membership',
  configClass: MetadataConfig,
  defaultPort: METADATA_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class MetadataAppModule {},
    imports: [
      ServiceKitModule.forRoot({
        identity,
        config,
        postgres: {
          url: config.CAIRN_DATABASE_URL,
          schema: metadataSchemaName(identity.namespace),
          migrations: [...METADATA_MIGRATIONS],
        },
      }),
    ],
    controllers: [MetadataRpcController, ProjectionConsumer, MetadataAdminController],
    providers: [
      MetadataReadModel,
      MetadataCommandContext,
      ProjectionTracker,
      BucketCommandsHandler,
      ObjectCommandsHandler,
      UploadCommandsHandler,
      AccessKeyCommandsHandler,
      MembershipCommandsHandler,
      RootKeyBootstrap,
      MetaProjectionWorker,
    ],
  }),
};
