import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Current members only; a removed node's row goes. */
@Entity({ name: 'storage_nodes' })
export class StorageNodeEntity {
  @PrimaryColumn({ name: 'node_id', type: 'text' })
  nodeId: string;

  @Column({ type: 'text' })
  zone: string;

  @Column({ type: 'text' })
  host: string;

  @Column({ type: 'text' })
  address: string;

  @Column({ type: 'integer' })
  weight: number;

  @Column({ name: 'capacity_bytes', type: 'bigint' })
  capacityBytes: string;

  @Column({ type: 'boolean' })
  draining: boolean;

  @Column({ name: 'joined_at', type: 'timestamptz' })
  joinedAt: Date;

  /** The ring epoch of the node's last change. */
  @Column({ type: 'bigint' })
  epoch: string;
}

/** One row: the ring epoch the membership reached. */
@Entity({ name: 'ring_epoch' })
export class RingEpochEntity {
  @PrimaryColumn({ type: 'smallint' })
  id: number;

  @Column({ type: 'bigint' })
  epoch: string;
}
