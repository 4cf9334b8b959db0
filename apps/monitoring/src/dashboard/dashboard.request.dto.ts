import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A date far beyond any chart point (year 2286): bounds the query's number. */
const SINCE_MAX_MS = 10_000_000_000_000;

export class DashboardQueryDto {
  /** Only chart points newer than this (ms since the epoch): the page asks for what it lacks. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(SINCE_MAX_MS)
  since?: number;
}
