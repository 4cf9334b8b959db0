import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
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

  /** `true` adds each hash's size and touch time; only the words true and false are accepted. */
  @IsOptional()
  @Transform(({ value }) => parseBooleanWord(value))
  @IsBoolean({ message: 'detail must be true or false' })
  detail?: boolean;
}

/** Query strings carry words: Boolean('false') would be true, so only the two words are read. */
export function parseBooleanWord(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}
