import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'buckets' })
@Index('buckets_owner_idx', ['owner', 'name'])
export class BucketEntity {
  @PrimaryColumn({ type: 'text', collation: 'C' })
  name: string;

  @Column({ type: 'text' })
  owner: string;

  @Column({ type: 'text' })
  region: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'text' })
  versioning: string;

  @Column({ name: 'replication_mode', type: 'text' })
  replicationMode: string;

  @Column({ name: 'home_region', type: 'text', nullable: true })
  homeRegion: string | null;

  @Column({ name: 'default_storage_class', type: 'text' })
  defaultStorageClass: string;

  @Column({ type: 'jsonb' })
  tags: { key: string; value: string }[];

  @Column({ name: 'deletion_id', type: 'text', nullable: true })
  deletionId: string | null;

  @Column({ name: 'created_sequence', type: 'bigint' })
  createdSequence: string;

  @Column({ name: 'updated_sequence', type: 'bigint' })
  updatedSequence: string;
}
