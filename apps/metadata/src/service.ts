import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { AccessKeyModule } from './access-key/access-key.module';
import { metadataSchemaName } from './adapters/metadata-schema';
import { METADATA_MIGRATIONS } from './adapters/migrations';
import { MetadataAdminModule } from './admin/metadata-admin.module';
import { BucketModule } from './bucket/bucket.module';
import { ChunkReferencesModule } from './chunk-references/chunk-references.module';
import { ConflictLogModule } from './conflict-log/conflict-log.module';
import { MembershipModule } from './membership/membership.module';
import { databaseTlsOf, MetadataConfig } from './metadata.config';
import { MultipartUploadModule } from './multipart-upload/multipart-upload.module';
import { ObjectKeyModule } from './object-key/object-key.module';
import { DataProtectionModule } from './data-protection/data-protection.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { PointInTimeModule } from './point-in-time/point-in-time.module';
import { ProjectionsModule } from './projections/projections.module';
import { ReplicationModule } from './replication/replication.module';
import { ReplicaLeavesModule } from './replica-leaves/replica-leaves.module';

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
          tls: databaseTlsOf(config),
          schema: metadataSchemaName(identity.namespace),
          migrations: [...METADATA_MIGRATIONS],
        },
      }),
      // One module per aggregate (its commands, RPCs, projection part and queries in its folder).
      BucketModule,
      ObjectKeyModule,
      DataProtectionModule,
      MultipartUploadModule,
      AccessKeyModule,
      MembershipModule,
      ChunkReferencesModule,
      ConflictLogModule,
      ReplicationModule,
      ReplicaLeavesModule,
      LifecycleModule,
      PointInTimeModule,
      ProjectionsModule,
      MetadataAdminModule,
    ],
  }),
};
