import { MetadataErrorCodes, MetadataLimits, type StorageNodeDescription } from '@cairn/protocol';
import { assertNever, type Decider } from '@cairn/eventing';
import { MetadataError } from '../shared/metadata.errors';
import { requireText } from '../shared/validation';
import type { MembershipCommand } from './membership.commands';
import type { MembershipEvent } from './membership.events';

/** Node ids appear in NATS subjects, so they are single tokens. */
const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface MemberNode extends StorageNodeDescription {
  readonly draining: boolean;
}

/** The whole membership, one aggregate on one subject: `epoch` counts its changes. */
export interface MembershipState {
  readonly epoch: number;
  readonly nodes: Readonly<Record<string, MemberNode>>;
}

export const membershipDecider: Decider<MembershipCommand, MembershipEvent, MembershipState> = {
  initialState: () => ({ epoch: 0, nodes: {} }),

  decide(command, state) {
    const epoch = state.epoch + 1;
    switch (command.type) {
      case 'JoinStorageNode': {
        if (!NODE_ID_PATTERN.test(command.nodeId)) {
          throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${command.nodeId}" is not a node id`);
        }
        if (state.nodes[command.nodeId]) {
          throw new MetadataError(MetadataErrorCodes.NodeAlreadyJoined, `node ${command.nodeId} is already a member`, { nodeId: command.nodeId });
        }
        requireText(command.zone, 'the zone');
        requireText(command.host, 'the host');
        requireText(command.address, 'the address');
        validateWeight(command.weight, command.capacityBytes);
        const { type: _type, ...data } = command;
        return [{ type: 'StorageNodeJoined', data: { ...data, epoch } }];
      }
      case 'ChangeStorageNodeWeight': {
        const node = requireNode(state, command.nodeId);
        validateWeight(command.weight, command.capacityBytes);
        if (node.weight === command.weight && node.capacityBytes === command.capacityBytes) return [];
        return [{ type: 'StorageNodeWeightChanged', data: { nodeId: command.nodeId, weight: command.weight, capacityBytes: command.capacityBytes, epoch } }];
      }
      case 'DrainStorageNode':
        if (requireNode(state, command.nodeId).draining) return [];
        return [{ type: 'StorageNodeDrained', data: { nodeId: command.nodeId, drainedAt: command.drainedAt, epoch } }];
      case 'RemoveStorageNode':
        requireNode(state, command.nodeId);
        return [{ type: 'StorageNodeRemoved', data: { nodeId: command.nodeId, removedAt: command.removedAt, epoch } }];
      default:
        return assertNever(command, 'membership command');
    }
  },

  evolve(state, event) {
    const { epoch } = event.data;
    if (epoch !== state.epoch + 1) throw new Error(`membership event at epoch ${epoch} follows epoch ${state.epoch}`);
    switch (event.type) {
      case 'StorageNodeJoined': {
        const { epoch: _epoch, joinedAt: _joinedAt, ...node } = event.data;
        return { epoch, nodes: { ...state.nodes, [node.nodeId]: { ...node, draining: false } } };
      }
      case 'StorageNodeWeightChanged':
        return withNode(state, epoch, event.data.nodeId, (n) => ({ ...n, weight: event.data.weight, capacityBytes: event.data.capacityBytes }));
      case 'StorageNodeDrained':
        return withNode(state, epoch, event.data.nodeId, (n) => ({ ...n, draining: true }));
      case 'StorageNodeRemoved': {
        const { [event.data.nodeId]: _removed, ...nodes } = state.nodes;
        return { epoch, nodes };
      }
      default:
        return assertNever(event, 'membership event');
    }
  },
};

function withNode(state: MembershipState, epoch: number, nodeId: string, change: (node: MemberNode) => MemberNode): MembershipState {
  const node = state.nodes[nodeId];
  if (!node) throw new Error(`membership event for node ${nodeId}, which is not a member`);
  return { epoch, nodes: { ...state.nodes, [nodeId]: change(node) } };
}

function requireNode(state: MembershipState, nodeId: string): MemberNode {
  const node = state.nodes[nodeId];
  if (!node) throw new MetadataError(MetadataErrorCodes.NoSuchNode, `node ${nodeId} is not a member`, { nodeId });
  return node;
}

function validateWeight(weight: number, capacityBytes: number): void {
  if (!Number.isInteger(weight) || weight < MetadataLimits.nodeWeightMin || weight > MetadataLimits.nodeWeightMax) {
    throw new MetadataError(
      MetadataErrorCodes.InvalidArgument,
      `weight must be an integer from ${MetadataLimits.nodeWeightMin} to ${MetadataLimits.nodeWeightMax}`,
    );
  }
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `capacity ${capacityBytes} is not a byte count`);
  }
}
