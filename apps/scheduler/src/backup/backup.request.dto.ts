import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const MiB = 1024 * 1024;

/** POST /admin/backup/targets. */
export class AddBackupTargetRequestDto {
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'name must be lowercase letters, digits and "-"' })
  name!: string;

  @IsIn(['dir', 's3'])
  kind!: 'dir' | 's3';

  /** dir: an absolute directory (local or mounted). */
  @IsOptional()
  @IsString()
  @Matches(/^\//, { message: 'path must be absolute' })
  path?: string;

  /** s3: the endpoint URL (another Cairn region's S3 address, MinIO, AWS). */
  @IsOptional()
  @IsString()
  @Matches(/^https?:\/\/\S+$/, { message: 'endpoint must be an http(s) URL' })
  endpoint?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  region?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'bucket must be an S3 bucket name' })
  bucket?: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  prefix?: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  accessKeyId?: string;

  /** Sealed at rest; never shown again. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  secretAccessKey?: string;

  /** Pace of backup and restore copies (default 64 MiB/s). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(64 * 1024)
  @Max(100 * 1024 * MiB)
  bytesPerSecond?: number;

  /** Periodic backups every this many seconds (none when absent). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(30 * 86_400)
  everySeconds?: number;

  /** Complete backups kept by a scheduled target (default 24). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  keep?: number;
}

/** POST /admin/backup/run and /admin/backup/verify. */
export class BackupTargetRequestDto {
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/)
  target!: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  backupId?: string;

  /** verify: chunks re-read (default 100); 0 means all. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  sample?: number;
}
