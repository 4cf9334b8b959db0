import { Module } from '@nestjs/common';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { MetaProjectionWorker } from './meta-projection.worker';
import { ProjectionRpcController } from './projection-rpc.controller';
import { ProjectionTracker } from './projection-tracker';
import { ProjectionConsumer } from './projection.consumer';

/** The projection side: consumers and the META worker feed the projectors; the tracker answers "reached sequence N?". */
@Module({
  imports: [MetadataCoreModule],
  controllers: [ProjectionConsumer, ProjectionRpcController],
  providers: [ProjectionTracker, MetaProjectionWorker],
  exports: [ProjectionTracker],
})
export class ProjectionsModule {}
