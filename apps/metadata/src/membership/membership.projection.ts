import { assertNever } from '@cairn/eventing';
import type { MembershipEvent } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import { eventTypes, type MetadataProjectionPart } from '../projections/projection-part';

const RING_EPOCH_ROW_ID = 1;

/** storage_nodes (current members only; a removed node's row goes) and ring_epoch (one row: the epoch reached). */
export class MembershipProjection implements MetadataProjectionPart<MembershipEvent> {
  readonly handles = eventTypes<MembershipEvent>({ StorageNodeJoined: true, StorageNodeWeightChanged: true, StorageNodeDrained: true, StorageNodeRemoved: true });

  constructor(private readonly t: (table: string) => string) {}

  async apply(tx: EntityManager, event: MembershipEvent): Promise<void> {
    const t = this.t;
    switch (event.type) {
      case 'StorageNodeJoined': {
        const d = event.data;
        await tx.query(
          `INSERT INTO ${t('storage_nodes')} (node_id, zone, host, address, weight, capacity_bytes, draining, joined_at, epoch)
           VALUES ($1, $2, $3, $4, $5, $6, false, $7::timestamptz, $8)`,
          [d.nodeId, d.zone, d.host, d.address, d.weight, d.capacityBytes, d.joinedAt, d.epoch],
        );
        return this.setRingEpoch(tx, d.epoch);
      }
      case 'StorageNodeWeightChanged': {
        const d = event.data;
        await tx.query(`UPDATE ${t('storage_nodes')} SET weight = $2, capacity_bytes = $3, epoch = $4 WHERE node_id = $1`, [
          d.nodeId,
          d.weight,
          d.capacityBytes,
          d.epoch,
        ]);
        return this.setRingEpoch(tx, d.epoch);
      }
      case 'StorageNodeDrained':
        await tx.query(`UPDATE ${t('storage_nodes')} SET draining = true, epoch = $2 WHERE node_id = $1`, [event.data.nodeId, event.data.epoch]);
        return this.setRingEpoch(tx, event.data.epoch);
      case 'StorageNodeRemoved':
        await tx.query(`DELETE FROM ${t('storage_nodes')} WHERE node_id = $1`, [event.data.nodeId]);
        return this.setRingEpoch(tx, event.data.epoch);
      default:
        return assertNever(event, 'membership event');
    }
  }

  private async setRingEpoch(tx: EntityManager, epoch: number): Promise<void> {
    await tx.query(`INSERT INTO ${this.t('ring_epoch')} (id, epoch) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch`, [RING_EPOCH_ROW_ID, epoch]);
  }
}
