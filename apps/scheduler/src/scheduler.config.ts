import { ErasureCodingServiceConfig } from '@cairn/chunk-client';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';

const MiB = 1024 * 1024;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
export const DEFAULT_REPAIR_BYTES_PER_SECOND = 64 * MiB;
export const DEFAULT_GC_GRACE_MS = DAY_MS;
export const DEFAULT_SCRUB_PERIOD_MS = 14 * DAY_MS;
export const DEFAULT_SCRUB_MIN_BYTES_PER_SECOND = 1 * MiB;
export const DEFAULT_SCRUB_MAX_BYTES_PER_SECOND = 128 * MiB;
export const DEFAULT_SCRUB_TICK_MS = 5_000;
export const DEFAULT_SCRUB_COVERAGE_WINDOW_MS = 14 * DAY_MS;
export const DEFAULT_REREPLICATE_AFTER_MS = 10 * 60_000;
export const DEFAULT_LIFECYCLE_INTERVAL_MS = HOUR_MS;
export const DEFAULT_LIFECYCLE_ACTIONS_PER_SECOND = 100;

export const DEFAULT_RESTORE_WINDOW = '7d';
const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: HOUR_MS, d: DAY_MS };

/** "7d", "36h", "90m", "600000" (ms) → milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (e.g. 7d, 36h, 90m)`);
  return Number(m[1]) * DURATION_UNIT_MS[m[2] ?? 'ms'];
}

/**
 * CAIRN_EC_DATA_SHARDS / CAIRN_EC_PARITY_SHARDS come from ErasureCodingServiceConfig
 * (@cairn/chunk-client), the gateway's too: lifecycle transitions write stripes in the code the
 * gateway writes them in. Give both services the same values.
 */
export class SchedulerConfig extends ErasureCodingServiceConfig {
  /**
   * How often a lifecycle pass runs (docs/lifecycle.md). Rules are judged at the pass's own time,
   * rounded as S3 rounds (due at the first midnight UTC after the age is reached), so an hourly pass
   * acts within an hour of midnight; S3 itself makes no promise tighter than a day.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(7 * DAY_MS)
  CAIRN_LIFECYCLE_INTERVAL_MS = DEFAULT_LIFECYCLE_INTERVAL_MS;

  /** Lifecycle actions (removals, aborts, transitions) at most this many a second, evenly spaced. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  CAIRN_LIFECYCLE_ACTIONS_PER_SECOND = DEFAULT_LIFECYCLE_ACTIONS_PER_SECOND;

  @IsString()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// (TLS) URL' })
  CAIRN_REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * PEM file of the CA that signed Redis's certificate, for a rediss:// CAIRN_REDIS_URL (which
   * turns TLS on; without a CA file the server is checked against the system CAs). A password goes
   * in the URL: rediss://:password@host:6380.
   */
  @IsOptional()
  @IsString()
  CAIRN_REDIS_TLS_CA_FILE?: string;

  /** How often the repair sweep compares what nodes hold with what the ring and metadata say they should. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(DAY_MS)
  CAIRN_SWEEP_INTERVAL_MS = DEFAULT_SWEEP_INTERVAL_MS;

  /** Bytes per second that repair and rebalance copies may move in all (client traffic keeps the rest). */
  @Type(() => Number)
  @IsInt()
  @Min(64 * 1024)
  @Max(100 * 1024 * MiB)
  CAIRN_REPAIR_BYTES_PER_SECOND = DEFAULT_REPAIR_BYTES_PER_SECOND;

  /** Per-chunk repair jobs run this many at once per scheduler instance. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  CAIRN_REPAIR_CONCURRENCY = 4;

  /**
   * A storage node the sweep cannot reach, or that monitoring declared down (NodeDown), for this
   * long is left out of placement: its chunks get their third copy elsewhere. Long enough that a
   * restart or a short outage copies nothing.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(30 * DAY_MS)
  CAIRN_REREPLICATE_AFTER_MS = DEFAULT_REREPLICATE_AFTER_MS;

  /** An unreferenced chunk is deleted only after it has stayed unreferenced this long. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(365 * DAY_MS)
  CAIRN_GC_GRACE_MS = DEFAULT_GC_GRACE_MS;

  /**
   * Point-in-time restore reaches back this far (docs/backups.md): garbage collection keeps every
   * chunk that some moment within the window still referenced, i.e. a chunk is deleted only once
   * it has been unreferenced for the longer of this and CAIRN_GC_GRACE_MS. "7d", "36h", "90m", or ms.
   */
  @IsString()
  @Matches(/^\d+(ms|s|m|h|d)?$/, { message: 'must be a duration such as 7d, 36h, 90m or a number of milliseconds' })
  CAIRN_RESTORE_WINDOW = DEFAULT_RESTORE_WINDOW;

  /** Every stored byte is re-hashed at least once per this period. */
  @Type(() => Number)
  @IsInt()
  @Min(60_000)
  @Max(365 * DAY_MS)
  CAIRN_SCRUB_PERIOD_MS = DEFAULT_SCRUB_PERIOD_MS;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100 * 1024 * MiB)
  CAIRN_SCRUB_MIN_BYTES_PER_SECOND = DEFAULT_SCRUB_MIN_BYTES_PER_SECOND;

  /** The pace of "scrub now", and the most a scheduled scrub takes per node. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100 * 1024 * MiB)
  CAIRN_SCRUB_MAX_BYTES_PER_SECOND = DEFAULT_SCRUB_MAX_BYTES_PER_SECOND;

  /** How often scrub takes its next step on each node. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(HOUR_MS)
  CAIRN_SCRUB_TICK_MS = DEFAULT_SCRUB_TICK_MS;

  /** Scrub coverage is reported as the share of bytes verified within this window. */
  @Type(() => Number)
  @IsInt()
  @Min(60_000)
  @Max(365 * DAY_MS)
  CAIRN_SCRUB_COVERAGE_WINDOW_MS = DEFAULT_SCRUB_COVERAGE_WINDOW_MS;

  /**
   * Disaster-recovery drills on a schedule (docs/failover.md): every this many ms a drill takes
   * CAIRN_DRILL_REGION out through the fault proxy, the same drill `cairn drill run` runs. 0 (the
   * default): no scheduled drills. Meant for test and staging federations: a drill cuts a region off.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30 * DAY_MS)
  @ValidateIf((c: SchedulerConfig) => c.CAIRN_DRILL_INTERVAL_MS !== 0)
  @Min(10_000, { message: 'CAIRN_DRILL_INTERVAL_MS must be 0 (off) or at least 10000: a drill itself takes tens of seconds' })
  CAIRN_DRILL_INTERVAL_MS = 0;

  /** The region a scheduled drill takes out (required when drills are on). */
  @ValidateIf((c: SchedulerConfig) => c.CAIRN_DRILL_INTERVAL_MS > 0)
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'must be a region name (required when CAIRN_DRILL_INTERVAL_MS is set)' })
  CAIRN_DRILL_REGION?: string;

  /**
   * The federation profile a scheduled drill uses (required when drills are on): every region's
   * endpoints, operator token and S3 keys, and the fault proxy — the file start:regions writes,
   * .cairn/regions/profile.json.
   */
  @ValidateIf((c: SchedulerConfig) => c.CAIRN_DRILL_INTERVAL_MS > 0)
  @IsString()
  @Matches(/\S/, { message: 'must name a federation profile file (required when CAIRN_DRILL_INTERVAL_MS is set)' })
  CAIRN_DRILL_PROFILE?: string;

  /** The active-passive bucket a scheduled drill's clients write to (made if missing). */
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be a bucket name' })
  CAIRN_DRILL_BUCKET = 'cairn-drill';
}
