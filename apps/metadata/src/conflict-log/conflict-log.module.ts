import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { ConflictLogRpcController } from './conflict-log-rpc.controller';

/** The conflict log: conflicts resolved between regions, as the projection recorded them (conflict-log.projection.ts). */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule],
  controllers: [ConflictLogRpcController],
})
export class ConflictLogModule {}
