import { MetadataLimits } from '@cairn/protocol';
import { ErasureCodingServiceConfig } from '@cairn/chunk-client';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsString, Matches, Max, Min } from 'class-validator';

/** 8 MiB: docs/architecture.md §3's default chunk size. */
export const DEFAULT_CHUNK_SIZE_BYTES = 8 * 1024 * 1024;
/** Bounds on the chunk size: a request holds one or two chunk buffers in memory (two when the write budget has one spare). */
export const MIN_CHUNK_SIZE_BYTES = 64 * 1024;
export const MAX_CHUNK_SIZE_BYTES = 16 * 1024 * 1024;
/**
 * Objects (and parts) up to this size live inline in metadata: one metadata write per PUT and one
 * read per GET instead of three storage round trips. MinIO inlines up to 128 KiB, Garage 3 KiB.
 */
export const DEFAULT_INLINE_OBJECT_MAX_BYTES = 16 * 1024;
export const DEFAULT_CACHE_TTL_MS = 5_000;

/** CAIRN_EC_DATA_SHARDS / CAIRN_EC_PARITY_SHARDS come from ErasureCodingServiceConfig (@cairn/chunk-client), shared with the scheduler. */
export class AccessConfig extends ErasureCodingServiceConfig {
  /** Host names for virtual-hosted-style requests (`<bucket>.<domain>`), comma-separated. */
  @IsString()
  @Matches(/^[a-z0-9.-]+(,[a-z0-9.-]+)*$/, { message: 'must be comma-separated host names' })
  CAIRN_S3_BASE_DOMAINS = 'localhost,s3.localhost';

  /** The region S3 clients sign for and that GetBucketLocation reports. */
  @IsString()
  @Matches(/^[a-z0-9-]{1,32}$/, { message: 'must be an S3 region name such as us-east-1' })
  CAIRN_S3_REGION = 'us-east-1';

  @Type(() => Number)
  @IsInt()
  @Min(MIN_CHUNK_SIZE_BYTES)
  @Max(MAX_CHUNK_SIZE_BYTES)
  CAIRN_CHUNK_SIZE_BYTES = DEFAULT_CHUNK_SIZE_BYTES;

  /** 0 sends every body to storage nodes; at most what metadata keeps inline (64 KiB). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MetadataLimits.inlineChunkMaxBytes)
  CAIRN_INLINE_OBJECT_MAX_BYTES = DEFAULT_INLINE_OBJECT_MAX_BYTES;

  /** Log every successful S3 request at info; failed ones are always logged (warn, error). */
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  CAIRN_S3_LOG_REQUESTS = false;

  /**
   * How long a bucket's view or an access key is trusted when no change to it has been heard of.
   * Changes are heard of within moments from the META stream; this only bounds a missed one.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  CAIRN_CACHE_TTL_MS = DEFAULT_CACHE_TTL_MS;

  /**
   * The region's keyring (master key versions and SSE-KMS keys), outside the event log, mode 0600
   * (docs/encryption.md). Empty: SSE-S3 and SSE-KMS answer NotImplemented; SSE-C still works.
   */
  @IsString()
  CAIRN_MASTER_KEY_FILE = '';

  /** Create the keyring with a first master key when the file is missing (development only). */
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  CAIRN_MASTER_KEY_CREATE = false;
}
