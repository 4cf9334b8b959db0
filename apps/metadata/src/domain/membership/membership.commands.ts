export type { ChangeStorageNodeWeight, DrainStorageNode, JoinStorageNode, MembershipCommand, RemoveStorageNode } from '@cairn/protocol';
