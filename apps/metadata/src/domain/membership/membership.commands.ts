import type { StorageNodeDescription } from '@cairn/protocol';

/* The membership decider's commands: metadata's own (the shell builds them from RPC requests); they never cross a service boundary. */

export interface JoinStorageNode extends StorageNodeDescription {
  readonly type: 'JoinStorageNode';
  readonly joinedAt: string;
}

export interface ChangeStorageNodeWeight {
  readonly type: 'ChangeStorageNodeWeight';
  readonly nodeId: string;
  readonly weight: number;
  readonly capacityBytes: number;
}

export interface DrainStorageNode {
  readonly type: 'DrainStorageNode';
  readonly nodeId: string;
  readonly drainedAt: string;
}

export interface RemoveStorageNode {
  readonly type: 'RemoveStorageNode';
  readonly nodeId: string;
  readonly removedAt: string;
}

export type MembershipCommand = JoinStorageNode | ChangeStorageNodeWeight | DrainStorageNode | RemoveStorageNode;
