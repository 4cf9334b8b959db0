import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CHUNK_VERIFY_LIMIT_DEFAULT, CHUNK_VERIFY_LIMIT_MAX, CHUNK_VERIFY_MAX_BYTES_DEFAULT, CHUNK_VERIFY_MAX_BYTES_MAX } from '@cairn/protocol';

export class VerifyChunksRequestDto {
  @IsOptional()
  @Matches(/^[0-9a-f]{0,64}$/, { message: 'after must be lowercase hex' })
  after?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(CHUNK_VERIFY_LIMIT_MAX)
  limit: number = CHUNK_VERIFY_LIMIT_DEFAULT;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(CHUNK_VERIFY_MAX_BYTES_MAX)
  maxBytes: number = CHUNK_VERIFY_MAX_BYTES_DEFAULT;
}
