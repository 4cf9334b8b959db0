import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Uploads in progress, and completed ones (completed_sequence set) until their version is
 * projected; aborting one deletes its row, parts and chunks.
 */
@Entity({ name: 'multipart_uploads' })
@Index('multipart_uploads_listing_idx', ['bucket', 'key', 'initiatedSequence', 'uploadId'])
export class MultipartUploadEntity {
  @PrimaryColumn({ type: 'text', collation: 'C' })
  bucket: string;

  @PrimaryColumn({ name: 'upload_id', type: 'text', collation: 'C' })
  uploadId: string;

  @Column({ type: 'text', collation: 'C' })
  key: string;

  @Column({ name: 'key_id', type: 'char', length: 64 })
  keyId: string;

  @Column({ type: 'text' })
  owner: string;

  @Column({ name: 'initiated_at', type: 'timestamptz' })
  initiatedAt: Date;

  @Column({ name: 'initiated_sequence', type: 'bigint' })
  initiatedSequence: string;

  @Column({ name: 'content_type', type: 'text' })
  contentType: string;

  @Column({ name: 'user_metadata', type: 'jsonb' })
  userMetadata: Record<string, string>;

  @Column({ name: 'storage_class', type: 'text' })
  storageClass: string;

  @Column({ type: 'jsonb' })
  tags: { key: string; value: string }[];

  @Column({ name: 'content_headers', type: 'jsonb' })
  contentHeaders: Record<string, string>;

  @Column({ name: 'completed_sequence', type: 'bigint', nullable: true })
  completedSequence: string | null;
}

@Entity({ name: 'multipart_parts' })
export class MultipartPartEntity {
  @PrimaryColumn({ type: 'text', collation: 'C' })
  bucket: string;

  @PrimaryColumn({ name: 'upload_id', type: 'text', collation: 'C' })
  uploadId: string;

  @PrimaryColumn({ name: 'part_number', type: 'integer' })
  partNumber: number;

  @Column({ type: 'char', length: 32 })
  etag: string;

  @Column({ name: 'size_bytes', type: 'bigint' })
  sizeBytes: string;

  @Column({ type: 'jsonb' })
  checksums: Record<string, string>;

  @Column({ name: 'last_modified', type: 'timestamptz' })
  lastModified: Date;
}
