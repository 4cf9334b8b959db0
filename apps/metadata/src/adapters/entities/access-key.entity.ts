import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'access_keys' })
export class AccessKeyEntity {
  @PrimaryColumn({ name: 'access_key_id', type: 'text' })
  accessKeyId: string;

  @Column({ name: 'secret_access_key', type: 'text' })
  secretAccessKey: string;

  @Column({ type: 'text' })
  owner: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
