import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from '../domain/chunk-layout';
import { OptionalCountQuery, OptionalHexQuery } from './chunk-query.decorators';

export class ListChunksRequestDto {
  @OptionalHexQuery('prefix')
  prefix?: string;

  @OptionalHexQuery('after')
  after?: string;

  @OptionalCountQuery(LIST_LIMIT_MAX)
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
