import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How far each projection got in the stream, written in the same transaction as its rows. */
@Entity({ name: 'projection_checkpoints' })
export class ProjectionCheckpointEntity {
  @PrimaryColumn({ type: 'text' })
  projection: string;

  @Column({ type: 'bigint' })
  sequence: string;
}
