import { Module } from '@nestjs/common';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { MetadataCommandContext } from './metadata-command-context';

/** What every aggregate module shares: the command context (event store, subjects, clock) and the read model. */
@Module({
  providers: [MetadataCommandContext, MetadataReadModel],
  exports: [MetadataCommandContext, MetadataReadModel],
})
export class MetadataCoreModule {}
