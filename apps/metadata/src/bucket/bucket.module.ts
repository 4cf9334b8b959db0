import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { BucketCommandsHandler } from './bucket-commands.handler';
import { BucketRpcController } from './bucket-rpc.controller';
import { BucketAccessRpcController } from './bucket-access-rpc.controller';

/** Buckets: their commands and RPCs; the bucket reads every key and upload write is guarded by. */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule],
  controllers: [BucketRpcController, BucketAccessRpcController],
  providers: [BucketCommandsHandler],
  exports: [BucketCommandsHandler],
})
export class BucketModule {}
