import { CHUNK_VERIFY_LIMIT_DEFAULT, CHUNK_VERIFY_LIMIT_MAX, CHUNK_VERIFY_MAX_BYTES_DEFAULT, CHUNK_VERIFY_MAX_BYTES_MAX } from '@cairn/protocol';
import { OptionalCountQuery, OptionalHexQuery } from './chunk-query.decorators';

export class VerifyChunksRequestDto {
  @OptionalHexQuery('after')
  after?: string;

  @OptionalCountQuery(CHUNK_VERIFY_LIMIT_MAX)
  limit: number = CHUNK_VERIFY_LIMIT_DEFAULT;

  @OptionalCountQuery(CHUNK_VERIFY_MAX_BYTES_MAX)
  maxBytes: number = CHUNK_VERIFY_MAX_BYTES_DEFAULT;
}
