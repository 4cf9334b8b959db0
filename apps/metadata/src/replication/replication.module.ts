import { Module } from '@nestjs/common';
import { BucketModule } from '../bucket/bucket.module';
import { ObjectKeyModule } from '../object-key/object-key.module';
import { ReplicationRpcController } from './replication-rpc.controller';

/** Other regions' changes, applied here for sync (docs/replication.md). */
@Module({
  imports: [BucketModule, ObjectKeyModule],
  controllers: [ReplicationRpcController],
})
export class ReplicationModule {}
