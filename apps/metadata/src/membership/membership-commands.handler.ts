import { Injectable } from '@nestjs/common';
import { membershipSubject, type ChangeNodeWeightRequest, type JoinNodeRequest, type MembershipReply } from '@cairn/protocol';
import { membershipDecider } from '../domain/membership/membership.decider';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import type { MembershipCommand } from '../domain/membership/membership.commands';

/** Storage-node membership: one subject on CLUSTER, so the ring epoch is its event count. */
@Injectable()
export class MembershipCommandsHandler {
  constructor(private readonly ctx: MetadataCommandContext) {}

  join(request: JoinNodeRequest): Promise<MembershipReply> {
    return this.execute({ type: 'JoinStorageNode', ...pick(request), joinedAt: this.ctx.nowIso() });
  }

  changeWeight(request: ChangeNodeWeightRequest): Promise<MembershipReply> {
    return this.execute({ type: 'ChangeStorageNodeWeight', nodeId: request.nodeId, weight: request.weight, capacityBytes: request.capacityBytes });
  }

  drain(nodeId: string): Promise<MembershipReply> {
    return this.execute({ type: 'DrainStorageNode', nodeId, drainedAt: this.ctx.nowIso() });
  }

  remove(nodeId: string): Promise<MembershipReply> {
    return this.execute({ type: 'RemoveStorageNode', nodeId, removedAt: this.ctx.nowIso() });
  }

  private async execute(command: MembershipCommand): Promise<MembershipReply> {
    const handled = await this.ctx.run(membershipDecider, membershipSubject(this.ctx.identity.namespace), 'membership', command);
    return { sequence: handled.sequence, epoch: handled.state.epoch };
  }
}

function pick(r: JoinNodeRequest): JoinNodeRequest {
  return { nodeId: r.nodeId, zone: r.zone, host: r.host, address: r.address, weight: r.weight, capacityBytes: r.capacityBytes };
}
