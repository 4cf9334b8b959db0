import { IsBoolean, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** POST /admin/lifecycle/run. */
export class LifecycleRunRequestDto {
  /** One bucket only (default: every bucket with a lifecycle configuration whose lifecycle runs in this region). */
  @IsOptional()
  @IsString()
  @Matches(BUCKET_PATTERN, { message: 'bucket must be a bucket name' })
  bucket?: string;

  /** Judge the rules as of this ISO 8601 instant instead of the pass's start (tests, previews). */
  @IsOptional()
  @IsISO8601({ strict: true })
  now?: string;

  /** List what would be done; act on nothing. */
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  /** Answer when the pass has finished (up to 10 minutes), with its report. */
  @IsOptional()
  @IsBoolean()
  wait?: boolean;
}
