import { Module } from '@nestjs/common';
import { BucketModule } from '../bucket/bucket.module';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { ObjectCommandsHandler } from './object-commands.handler';
import { ObjectKeyRpcController } from './object-key-rpc.controller';
import { HomeRegionForwarder } from '../replication/home-region-forwarder';
import { ReplicaReads } from '../replication/replica-reads';

/** Object keys: versions, delete markers, tags, copies, HEAD, listings. */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule, BucketModule],
  controllers: [ObjectKeyRpcController],
  providers: [ObjectCommandsHandler, HomeRegionForwarder, ReplicaReads],
  exports: [ObjectCommandsHandler],
})
export class ObjectKeyModule {}
