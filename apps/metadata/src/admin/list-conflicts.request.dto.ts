import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { LIST_CONFLICTS_LIMIT_MAX } from '../conflict-log/conflict-log.queries';

/** Longest since/until/after text taken (an ISO-8601 instant or a conflict id is far shorter). */
const QUERY_VALUE_MAX_LENGTH = 1024;

/** GET /admin/buckets/:name/conflicts: the query string (since/until are checked as instants by the query itself). */
export class ListConflictsQueryDto {
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'ISO-8601: conflicts resolved at or after this instant' })
  @IsOptional()
  @IsString()
  @MaxLength(QUERY_VALUE_MAX_LENGTH)
  since?: string;

  @ApiPropertyOptional({ example: '2026-12-02T00:00:00Z', description: 'ISO-8601: conflicts resolved before this instant' })
  @IsOptional()
  @IsString()
  @MaxLength(QUERY_VALUE_MAX_LENGTH)
  until?: string;

  @ApiPropertyOptional({ description: 'The nextAfter of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(QUERY_VALUE_MAX_LENGTH)
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: LIST_CONFLICTS_LIMIT_MAX, default: LIST_CONFLICTS_LIMIT_MAX })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIST_CONFLICTS_LIMIT_MAX)
  limit?: number;
}
