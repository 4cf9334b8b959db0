import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  metadataPattern,
  MetadataRpc,
  type ChangeNodeWeightRequest,
  type JoinNodeRequest,
  type ListNodesReply,
  type ListNodesRequest,
  type NodeIdRequest,
  type RingEpochReply,
  type RingEpochRequest,
} from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { ProjectionTracker } from '../projections/projection-tracker';
import { body } from '../shared/rpc-request';
import { MembershipCommandsHandler } from './membership-commands.handler';
import { MembershipQueries } from './membership.queries';

/** The membership RPCs of the contract in libs/protocol (metadata.rpc.ts): node changes, then reads as of CLUSTER. */
@Controller()
export class MembershipRpcController {
  constructor(
    private readonly membership: MembershipCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.joinNode))
  joinNode(@Payload() r: JoinNodeRequest) {
    return this.membership.join(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.changeNodeWeight))
  changeNodeWeight(@Payload() r: ChangeNodeWeightRequest) {
    return this.membership.changeWeight(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.drainNode))
  drainNode(@Payload() r: NodeIdRequest) {
    return this.membership.drain(body(r).nodeId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.removeNode))
  removeNode(@Payload() r: NodeIdRequest) {
    return this.membership.remove(body(r).nodeId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listNodes))
  async listNodes(@Payload() r: ListNodesRequest | null): Promise<ListNodesReply> {
    await this.projection.waitFor('CLUSTER', r?.minSequence);
    const queries = await this.readModel.queries(MembershipQueries);
    const [nodes, epoch] = await Promise.all([queries.listStorageNodes(), queries.ringEpoch()]);
    return { nodes, epoch };
  }

  @MessagePattern(metadataPattern(MetadataRpc.ringEpoch))
  async ringEpoch(@Payload() r: RingEpochRequest | null): Promise<RingEpochReply> {
    await this.projection.waitFor('CLUSTER', r?.minSequence);
    return { epoch: await (await this.readModel.queries(MembershipQueries)).ringEpoch() };
  }
}
