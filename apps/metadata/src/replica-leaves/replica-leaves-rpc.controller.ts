import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { metadataPattern, MetadataRpc, type ListReplicaLeavesReply, type ListReplicaLeavesRequest } from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { CHECKPOINT_NAMES } from '../projections/projection-streams';
import { replicaLeafRange } from './replica-leaves-request';
import { ReplicaLeafQueries } from './replica-leaves.queries';

/** replication.leaves: a bucket's anti-entropy leaves, for sync's Merkle trees (docs/anti-entropy.md). */
@Controller()
export class ReplicaLeavesRpcController {
  constructor(private readonly readModel: MetadataReadModel) {}

  /** Read from the projection as it stands: a change still being projected differs until the next comparison. */
  @MessagePattern(metadataPattern(MetadataRpc.listReplicaLeaves))
  async listReplicaLeaves(@Payload() r: ListReplicaLeavesRequest | null): Promise<ListReplicaLeavesReply> {
    const range = replicaLeafRange(r);
    return (await this.readModel.queries(ReplicaLeafQueries)).listReplicaLeaves(range, CHECKPOINT_NAMES.META);
  }
}
