import { HISTORY_MOMENT_PATTERN } from '@cairn/protocol';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** POST /admin/restore: a bucket (or a prefix of it) back to a moment, in place or into another bucket. */
export class RestoreRequestDto {
  @IsString()
  @Matches(BUCKET_PATTERN, { message: 'bucket must be an S3 bucket name' })
  bucket!: string;

  /** ISO 8601 instant with its zone. */
  @IsString()
  @Matches(HISTORY_MOMENT_PATTERN, { message: 'at must be an ISO 8601 instant with its zone, e.g. 2026-12-02T16:00:00Z' })
  at!: string;

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  prefix?: string;

  @IsOptional()
  @IsString()
  @Matches(BUCKET_PATTERN, { message: 'to must be an S3 bucket name' })
  to?: string;
}
