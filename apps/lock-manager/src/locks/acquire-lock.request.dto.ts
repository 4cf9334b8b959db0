import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { LEASE_SECRET_MAX_LENGTH, LEASE_SECRET_MIN_LENGTH, LEASE_SECRET_PATTERN, type LockMode } from '@cairn/protocol';
import { MAX_LOCK_TTL_MS, MAX_LOCK_WAIT_MS, MAX_NAME_LENGTH } from '../domain/lock-table.state-machine';

export const LOCK_MODES: readonly LockMode[] = ['exclusive', 'shared'];
export const MAX_REQUEST_ID_LENGTH = 64;

/** HTTP body of POST /locks/:resource/acquire. */
export class AcquireLockRequestDto {
  @ApiProperty({ example: 'scheduler-1', description: 'Who will hold the lock' })
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  owner: string;

  @ApiPropertyOptional({ enum: LOCK_MODES, type: String, default: 'exclusive' })
  @IsIn(LOCK_MODES)
  mode: LockMode = 'exclusive';

  @ApiProperty({ example: 10_000, description: 'Lease length in committed time', minimum: 1, maximum: MAX_LOCK_TTL_MS })
  @IsInt()
  @Min(1)
  @Max(MAX_LOCK_TTL_MS)
  ttlMs: number;

  @ApiPropertyOptional({ type: Number, example: 0, default: 0, description: '0: refuse at once with LOCK_CONFLICT if taken; otherwise queue (FIFO) this long', maximum: MAX_LOCK_WAIT_MS })
  @IsInt()
  @Min(0)
  @Max(MAX_LOCK_WAIT_MS)
  waitMs = 0;

  @ApiPropertyOptional({ description: 'Reuse on retries: a retried acquire gets the grant or queue place it already has' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REQUEST_ID_LENGTH)
  requestId?: string;

  @ApiPropertyOptional({
    description: 'The lease secret to use (base64url, reuse it on retries with requestId); absent: the lock-manager draws one. The grant returns it; renew and release need it',
    minLength: LEASE_SECRET_MIN_LENGTH,
    maxLength: LEASE_SECRET_MAX_LENGTH,
  })
  @IsOptional()
  @IsString()
  @Length(LEASE_SECRET_MIN_LENGTH, LEASE_SECRET_MAX_LENGTH)
  @Matches(LEASE_SECRET_PATTERN)
  leaseSecret?: string;
}

/** NATS payload of `lock-manager.acquire`: the HTTP body plus the resource. */
export class AcquireLockRpcRequestDto extends AcquireLockRequestDto {
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  resource: string;
}
