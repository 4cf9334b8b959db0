/**
 * Storage-node membership. All of it lives on one subject (`membershipSubject`), so every change
 * is ordered against every other and `epoch` — the ring epoch the change creates — counts them.
 */
export interface StorageNodeJoined {
  readonly type: 'StorageNodeJoined';
  readonly data: StorageNodeDescription & { readonly joinedAt: string; readonly epoch: number };
}

/** A node as it describes itself when it joins (JoinNodeRequest), as its event and its view carry it. */
export interface StorageNodeDescription {
  readonly nodeId: string;
  readonly zone: string;
  readonly host: string;
  readonly address: string;
  readonly weight: number;
  readonly capacityBytes: number;
}

export interface StorageNodeWeightChanged {
  readonly type: 'StorageNodeWeightChanged';
  readonly data: { readonly nodeId: string; readonly weight: number; readonly capacityBytes: number; readonly epoch: number };
}

/** The node takes no new chunks; rebalance moves its chunks away. */
export interface StorageNodeDrained {
  readonly type: 'StorageNodeDrained';
  readonly data: { readonly nodeId: string; readonly drainedAt: string; readonly epoch: number };
}

export interface StorageNodeRemoved {
  readonly type: 'StorageNodeRemoved';
  readonly data: { readonly nodeId: string; readonly removedAt: string; readonly epoch: number };
}

export type MembershipEvent = StorageNodeJoined | StorageNodeWeightChanged | StorageNodeDrained | StorageNodeRemoved;
