import { BaseServiceConfig } from '@cairn/service-kit';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

export class StorageConfig extends BaseServiceConfig {
  /** Where this node keeps its chunks; defaults to .cairn/data/<region>/<instance>. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  CAIRN_DATA_DIR?: string;

  /** Failure domains for placement: replicas spread across zones first, then hosts. */
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'must be lowercase letters, digits and "-"' })
  CAIRN_STORAGE_ZONE = 'zone-1';

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, { message: 'must be a host name' })
  CAIRN_STORAGE_HOST?: string;

  /** The URL other services reach this node's data plane at; defaults to http://127.0.0.1:<port>. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s):// URL' })
  CAIRN_STORAGE_PUBLIC_URL?: string;

  /** Chunks smaller than this go into pack files with group commit. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(8 * 1024 * 1024)
  CAIRN_SMALL_CHUNK_BYTES = 64 * 1024;

  /**
   * Free bytes the node keeps on its disk: below them it refuses new chunks (507 STORAGE_FULL) so
   * that the Raft log, NATS and Postgres sharing the disk never meet a full filesystem. 0: no reserve.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  CAIRN_STORAGE_RESERVE_BYTES = 1024 * 1024 * 1024;

  /** The node's share of placement: virtual nodes on the ring are proportional to it. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  CAIRN_STORAGE_WEIGHT = 1;

  /**
   * Log every successful data-plane request at info. Off by default: chunk traffic, the repair
   * sweep's listings and scrub steps would flood the log; failures are always logged.
   */
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  CAIRN_STORAGE_LOG_REQUESTS = false;
}
