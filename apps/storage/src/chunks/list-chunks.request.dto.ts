import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from '../domain/chunk-layout';

export class ListChunksRequestDto {
  @IsOptional()
  @Matches(/^[0-9a-f]{0,64}$/, { message: 'prefix must be lowercase hex' })
  prefix?: string;

  @IsOptional()
  @Matches(/^[0-9a-f]{0,64}$/, { message: 'after must be lowercase hex' })
  after?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIST_LIMIT_MAX)
  limit: number = LIST_LIMIT_DEFAULT;
}
