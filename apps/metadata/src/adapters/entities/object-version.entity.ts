import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One version or delete marker of a key. `key` is text in the "C" collation: Postgres then compares
 * UTF-8 bytes, which is Unicode code point order, which is S3's listing order.
 */
@Entity({ name: 'object_versions' })
@Index('object_versions_listing_idx', ['bucket', 'key', 'sequence'])
export class ObjectVersionEntity {
  @PrimaryColumn({ type: 'text', collation: 'C' })
  bucket: string;

  @PrimaryColumn({ name: 'key_id', type: 'char', length: 64 })
  keyId: string;

  @PrimaryColumn({ name: 'version_id', type: 'text', collation: 'C' })
  versionId: string;

  @Column({ type: 'text', collation: 'C' })
  key: string;

  /** The stream sequence of the write; orders a key's versions, newest highest. */
  @Column({ type: 'bigint' })
  sequence: string;

  @Column({ name: 'is_current', type: 'boolean' })
  isCurrent: boolean;

  @Column({ name: 'is_delete_marker', type: 'boolean' })
  isDeleteMarker: boolean;

  @Column({ name: 'size_bytes', type: 'bigint' })
  sizeBytes: string;

  @Column({ type: 'text', nullable: true })
  etag: string | null;

  @Column({ type: 'jsonb' })
  checksums: Record<string, string>;

  @Column({ name: 'content_type', type: 'text', nullable: true })
  contentType: string | null;

  @Column({ name: 'user_metadata', type: 'jsonb' })
  userMetadata: Record<string, string>;

  @Column({ name: 'storage_class', type: 'text', nullable: true })
  storageClass: string | null;

  @Column({ type: 'jsonb' })
  tags: { key: string; value: string }[];

  @Column({ type: 'text' })
  hlc: string;

  @Column({ name: 'last_modified', type: 'timestamptz' })
  lastModified: Date;

  @Column({ name: 'upload_id', type: 'text', nullable: true })
  uploadId: string | null;

  @Column({ name: 'copy_source', type: 'jsonb', nullable: true })
  copySource: { bucket: string; key: string; versionId: string } | null;

  /** Cache-Control, Content-Disposition, …: ContentHeaders in @cairn/protocol. */
  @Column({ name: 'content_headers', type: 'jsonb' })
  contentHeaders: Record<string, string>;

  /** A multipart version's part sizes in part order; NULL for single-part versions and markers. */
  @Column({ name: 'part_sizes', type: 'bigint', array: true, nullable: true })
  partSizes: string[] | null;
}
