import { Inject, Injectable } from '@nestjs/common';
import { ringMembers } from '@cairn/chunk-client';
import { HashRing } from '@cairn/hashing';
import { CairnError, CHUNK_REFERENCES_LIMIT_MAX, MetadataErrorCodes, MetadataRpc, type MembershipReply, type StorageNodeView } from '@cairn/protocol';
import { SERVICE_CONFIG } from '@cairn/service-kit';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { ClusterView } from '../cluster/cluster-view';
import { RebalancePlanner, type RebalancePlan } from '../domain/rebalance-plan';
import type { SchedulerConfig } from '../scheduler.config';
import type { SweepReport } from '../sweep/chunk-sweep';
import type { AddNodeRequestDto, PlanQueryDto } from './node-admin.request.dto';

export const NodeAdminErrorCodes = {
  NotDrained: 'NODE_NOT_DRAINED',
  NotEmpty: 'NODE_NOT_EMPTY',
  TooFewNodes: 'NODE_DRAIN_UNDER_REPLICATES',
  InvalidArgument: 'InvalidArgument',
} as const;

/** Below this many bytes copied, a sweep's rate is mostly start-up and says little about the next move. */
export const OBSERVED_RATE_MIN_BYTES = 64 * 1024 * 1024;

export interface NodeAdminView extends StorageNodeView {
  /** What the last complete sweep found on it; null before any. */
  readonly held: { readonly chunks: number; readonly bytes: number; readonly listed: boolean; readonly sweptAtEpoch: number; readonly sweptAt: string | undefined } | null;
  readonly removable: boolean;
}

/**
 * Membership for operators: add, reweight, drain and remove storage nodes, and a planner that
 * says what a change would move before anything moves. Membership itself is metadata's; this
 * adds the checks that need the sweep's view (a node is removed only once it is drained and
 * seen empty).
 */
@Injectable()
export class NodeAdminService {
  constructor(
    private readonly cluster: ClusterView,
    private readonly state: SchedulerStateStore,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  async list(): Promise<{ epoch: number; nodes: NodeAdminView[] }> {
    const [reply, last] = await Promise.all([this.cluster.listNodes(), this.state.getJson<SweepReport>('sweep:last-complete')]);
    return { epoch: reply.epoch, nodes: reply.nodes.map((n) => this.view(n, reply.epoch, last)) };
  }

  async add(dto: AddNodeRequestDto): Promise<MembershipReply> {
    const reply = await this.cluster.membership(MetadataRpc.joinNode, {
      nodeId: dto.nodeId,
      zone: dto.zone,
      host: dto.host ?? new URL(dto.address).hostname,
      address: dto.address,
      weight: dto.weight,
      capacityBytes: dto.capacityBytes ?? 0,
    });
    await this.cluster.ring.followEpoch();
    return reply;
  }

  async changeWeight(nodeId: string, weight: number): Promise<MembershipReply> {
    const node = await this.node(nodeId);
    const reply = await this.cluster.membership(MetadataRpc.changeNodeWeight, { nodeId, weight, capacityBytes: node.capacityBytes });
    await this.cluster.ring.followEpoch();
    return reply;
  }

  async drain(nodeId: string, force = false): Promise<MembershipReply> {
    const { nodes } = await this.cluster.listNodes();
    const node = nodes.find((n) => n.nodeId === nodeId);
    if (!node) throw new CairnError(MetadataErrorCodes.NoSuchNode, `node ${nodeId} is not a member`, { nodeId });
    const remaining = nodes.filter((n) => !n.draining && n.nodeId !== nodeId).length;
    const replicationFactor = this.config.CAIRN_REPLICATION_FACTOR;
    if (!force && !node.draining && remaining < replicationFactor) {
      throw new CairnError(
        NodeAdminErrorCodes.TooFewNodes,
        `draining ${nodeId} would leave ${remaining} active nodes, fewer than the ${replicationFactor} copies chunks keep: add a node first (or force=true to keep fewer copies)`,
        { nodeId, remaining },
      );
    }
    const reply = await this.cluster.membership(MetadataRpc.drainNode, { nodeId });
    await this.cluster.ring.followEpoch();
    return reply;
  }

  async remove(nodeId: string, force: boolean): Promise<MembershipReply> {
    const { epoch, nodes } = await this.list();
    const node = nodes.find((n) => n.nodeId === nodeId);
    if (!node) throw new CairnError(MetadataErrorCodes.NoSuchNode, `node ${nodeId} is not a member`, { nodeId });
    if (!force) {
      if (!node.draining) throw new CairnError(NodeAdminErrorCodes.NotDrained, `drain node ${nodeId} first (POST /admin/nodes/${nodeId}/drain), then remove it once it is empty`, { nodeId });
      if (!node.removable) {
        const held = node.held;
        const why = !held || held.sweptAtEpoch !== epoch ? 'no sweep since the last ring change has confirmed it empty yet' : !held.listed ? 'the last sweep could not list it' : `it still holds ${held.chunks} chunks (${held.bytes} bytes)`;
        throw new CairnError(NodeAdminErrorCodes.NotEmpty, `node ${nodeId} cannot be removed yet: ${why}`, { nodeId, held });
      }
    }
    const reply = await this.cluster.membership(MetadataRpc.removeNode, { nodeId });
    await this.cluster.ring.followEpoch();
    return reply;
  }

  /** What a membership change would move, computed over every referenced chunk, before anything moves. */
  async plan(query: PlanQueryDto): Promise<RebalancePlan & { readonly change: PlanQueryDto; readonly currentEpoch: number }> {
    const { epoch, nodes } = await this.cluster.listNodes();
    const after = hypothetical(nodes, query);
    const beforeMembers = ringMembers(nodes);
    const afterMembers = ringMembers(after);
    if (beforeMembers.length === 0 || afterMembers.length === 0) throw new CairnError(NodeAdminErrorCodes.InvalidArgument, 'the change would leave the ring without nodes');
    const planner = new RebalancePlanner(HashRing.build({ epoch, members: beforeMembers }), HashRing.build({ epoch: epoch + 1, members: afterMembers }));
    let after_ = '';
    for (;;) {
      const page = await this.cluster.listChunkReferences({ after: after_, limit: CHUNK_REFERENCES_LIMIT_MAX });
      planner.add(page.chunks.map((c) => ({ hash: c.hash as never, sizeBytes: c.sizeBytes, replicationFactor: c.replicationFactor })));
      if (!page.nextAfter) break;
      after_ = page.nextAfter;
    }
    return { ...planner.plan(this.config.CAIRN_REPAIR_BYTES_PER_SECOND, await this.observedCopyRate()), change: query, currentEpoch: epoch };
  }

  /** The byte rate the last complete sweep copied at, if it copied enough for the figure to mean something. */
  private async observedCopyRate(): Promise<number | null> {
    const last = await this.state.getJson<SweepReport>('sweep:last-complete');
    if (!last) return null;
    const copied = [last.work.repair, last.work.rebalance].filter((w) => w.rateUnit === 'bytes' && w.doneBytes >= OBSERVED_RATE_MIN_BYTES && w.ratePerSecond);
    if (copied.length === 0) return null;
    return Math.max(...copied.map((w) => w.ratePerSecond!));
  }

  private async node(nodeId: string): Promise<StorageNodeView> {
    const { nodes } = await this.cluster.listNodes();
    const node = nodes.find((n) => n.nodeId === nodeId);
    if (!node) throw new CairnError(MetadataErrorCodes.NoSuchNode, `node ${nodeId} is not a member`, { nodeId });
    return node;
  }

  private view(node: StorageNodeView, epoch: number, last: SweepReport | null): NodeAdminView {
    const seen = last?.nodes[node.nodeId];
    const held = seen && last ? { chunks: seen.chunks, bytes: seen.bytes, listed: seen.listed, sweptAtEpoch: last.ringEpoch, sweptAt: last.finishedAt } : null;
    const removable = node.draining && held !== null && held.sweptAtEpoch === epoch && held.listed && held.chunks === 0;
    return { ...node, held, removable };
  }
}

function hypothetical(nodes: readonly StorageNodeView[], change: PlanQueryDto): StorageNodeView[] {
  const existing = nodes.find((n) => n.nodeId === change.nodeId);
  switch (change.change) {
    case 'add': {
      if (existing) throw new CairnError(MetadataErrorCodes.NodeAlreadyJoined, `node ${change.nodeId} is already a member`);
      if (!change.zone || change.weight === undefined) throw new CairnError(NodeAdminErrorCodes.InvalidArgument, 'an added node needs zone and weight');
      return [
        ...nodes,
        { nodeId: change.nodeId, zone: change.zone, host: change.host ?? change.nodeId, address: '', weight: change.weight, capacityBytes: 0, draining: false, joinedAt: '', epoch: 0 },
      ];
    }
    case 'remove':
    case 'drain':
      if (!existing) throw new CairnError(MetadataErrorCodes.NoSuchNode, `node ${change.nodeId} is not a member`);
      return nodes.filter((n) => n.nodeId !== change.nodeId);
    case 'weight':
      if (!existing) throw new CairnError(MetadataErrorCodes.NoSuchNode, `node ${change.nodeId} is not a member`);
      if (change.weight === undefined) throw new CairnError(NodeAdminErrorCodes.InvalidArgument, 'a weight change needs weight');
      return nodes.map((n) => (n.nodeId === change.nodeId ? { ...n, weight: change.weight! } : n));
    default:
      return change.change satisfies never;
  }
}
