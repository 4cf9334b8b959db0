import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Which chunks a version is made of, in order; GC asks whether any row still names a chunk. */
@Entity({ name: 'object_version_chunks' })
@Index('object_version_chunks_hash_idx', ['chunkHash'])
export class ObjectVersionChunkEntity {
  @PrimaryColumn({ type: 'text', collation: 'C' })
  bucket: string;

  @PrimaryColumn({ name: 'key_id', type: 'char', length: 64 })
  keyId: string;

  @PrimaryColumn({ name: 'version_id', type: 'text', collation: 'C' })
  versionId: string;

  @PrimaryColumn({ type: 'integer' })
  ordinal: number;

  @Column({ name: 'chunk_hash', type: 'char', length: 64 })
  chunkHash: string;

  @Column({ name: 'offset_bytes', type: 'bigint' })
  offsetBytes: string;

  @Column({ name: 'size_bytes', type: 'bigint' })
  sizeBytes: string;

  /** The chunk's bytes when it is kept in metadata (ChunkRef.inline); such a chunk is on no storage node. */
  @Column({ name: 'inline_data', type: 'bytea', nullable: true })
  inlineData: Buffer | null;
}

/** The chunks of parts of uploads: referenced too, until the upload is aborted or the version made from it is projected. */
@Entity({ name: 'multipart_part_chunks' })
@Index('multipart_part_chunks_hash_idx', ['chunkHash'])
export class MultipartPartChunkEntity {
  @PrimaryColumn({ type: 'text', collation: 'C' })
  bucket: string;

  @PrimaryColumn({ name: 'upload_id', type: 'text', collation: 'C' })
  uploadId: string;

  @PrimaryColumn({ name: 'part_number', type: 'integer' })
  partNumber: number;

  @PrimaryColumn({ type: 'integer' })
  ordinal: number;

  @Column({ name: 'chunk_hash', type: 'char', length: 64 })
  chunkHash: string;

  @Column({ name: 'offset_bytes', type: 'bigint' })
  offsetBytes: string;

  @Column({ name: 'size_bytes', type: 'bigint' })
  sizeBytes: string;

  /** The chunk's bytes when it is kept in metadata (ChunkRef.inline); such a chunk is on no storage node. */
  @Column({ name: 'inline_data', type: 'bytea', nullable: true })
  inlineData: Buffer | null;
}
