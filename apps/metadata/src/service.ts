import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { MetadataAdminController } from './admin/metadata-admin.controller';
import { MetadataReadModel } from './adapters/metadata-read-model';
import { metadataSchemaName } from './adapters/metadata-schema';
import { METADATA_MIGRATIONS } from './adapters/migrations';
import { AccessKeyCommandsHandler } from './access-key/access-key-commands.handler';
import { BucketCommandsHandler } from './bucket/bucket-commands.handler';
import { MembershipCommandsHandler } from './membership/membership-commands.handler';
import { MetadataCommandContext } from './shared/metadata-command-context';
import { ObjectCommandsHandler } from './object-key/object-commands.handler';
import { RootKeyBootstrap } from './access-key/root-key.bootstrap';
import { UploadCommandsHandler } from './multipart-upload/upload-commands.handler';
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
