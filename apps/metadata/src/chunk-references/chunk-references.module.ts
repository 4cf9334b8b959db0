import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { ChunkReferencesRpcController } from './chunk-references-rpc.controller';

/** chunk.references, read across object keys and uploads for garbage collection and repair. */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule],
  controllers: [ChunkReferencesRpcController],
})
export class ChunkReferencesModule {}
