import { Module } from '@nestjs/common';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { ReplicaLeavesRpcController } from './replica-leaves-rpc.controller';

/** replication.leaves: what sync's anti-entropy builds its per-bucket Merkle trees from. */
@Module({
  imports: [MetadataCoreModule],
  controllers: [ReplicaLeavesRpcController],
})
export class ReplicaLeavesModule {}
