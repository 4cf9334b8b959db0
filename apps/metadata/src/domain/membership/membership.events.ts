export type { MembershipEvent, StorageNodeDrained, StorageNodeJoined, StorageNodeRemoved, StorageNodeWeightChanged } from '@cairn/protocol';
