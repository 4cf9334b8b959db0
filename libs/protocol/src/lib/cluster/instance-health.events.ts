import type { DomainEvent } from '../envelope';

/** What monitoring's failure detector concluded about one service instance, on CLUSTER. */
interface InstanceHealthData {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  /** The detector's suspicion when it decided; phi ≥ 8 reads as "a false alarm is 1 in 10^8". */
  readonly phi: number;
  readonly lastHeartbeatAt: string | null;
  readonly decidedBy: string;
}

export type NodeSuspected = DomainEvent<'NodeSuspected', InstanceHealthData>;
export type NodeDown = DomainEvent<'NodeDown', InstanceHealthData>;
export type NodeRecovered = DomainEvent<'NodeRecovered', InstanceHealthData>;
export type InstanceHealthEvent = NodeSuspected | NodeDown | NodeRecovered;

export const InstanceHealthSchemaVersions: Readonly<Record<InstanceHealthEvent['type'], number>> = {
  NodeSuspected: 1,
  NodeDown: 1,
  NodeRecovered: 1,
};
