import type { StorageNodeView } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';

/** The membership queries over the read model (storage_nodes, ring_epoch). */
export class MembershipQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  async listStorageNodes(): Promise<StorageNodeView[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('storage_nodes')} ORDER BY node_id`);
    return rows.map((r) => ({
      nodeId: String(r['node_id']),
      zone: String(r['zone']),
      host: String(r['host']),
      address: String(r['address']),
      weight: Number(r['weight']),
      capacityBytes: Number(r['capacity_bytes']),
      draining: Boolean(r['draining']),
      joinedAt: toIso(r['joined_at']),
      epoch: Number(r['epoch']),
    }));
  }

  /** The ring epoch the projection reached; 0 before any membership change. */
  async ringEpoch(): Promise<number> {
    const rows: Row[] = await this.dataSource.query(`SELECT epoch FROM ${this.t('ring_epoch')}`);
    return rows.length === 0 ? 0 : Number(rows[0]['epoch']);
  }
}
