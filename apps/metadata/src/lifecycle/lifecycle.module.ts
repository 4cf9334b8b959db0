import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { LifecycleRpcController } from './lifecycle-rpc.controller';

/** lifecycle.versions: the read the scheduler's lifecycle pass walks buckets with (docs/lifecycle.md). */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule],
  controllers: [LifecycleRpcController],
})
export class LifecycleModule {}
