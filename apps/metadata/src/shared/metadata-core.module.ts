import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@cairn/service-kit';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { AccessKeySecrets } from '../access-key/access-key-secrets';
import type { MetadataConfig } from '../metadata.config';
import { MetadataCommandContext } from './metadata-command-context';

/**
 * What every aggregate module shares: the command context (event store, subjects, clock), the read
 * model, and the sealing of access-key secrets (the key handler and the projection both seal).
 */
@Module({
  providers: [
    MetadataCommandContext,
    MetadataReadModel,
    { provide: AccessKeySecrets, useFactory: (config: MetadataConfig) => AccessKeySecrets.fromConfig(config), inject: [SERVICE_CONFIG] },
  ],
  exports: [MetadataCommandContext, MetadataReadModel, AccessKeySecrets],
})
export class MetadataCoreModule {}
