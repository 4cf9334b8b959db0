import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { MAX_LOCK_TTL_MS, MAX_NAME_LENGTH } from '../domain/lock-table.state-machine';
import { LeaseHolderRequestDto } from './lease-holder.request.dto';

/** HTTP body of POST /locks/:resource/renew. */
export class RenewLockRequestDto extends LeaseHolderRequestDto {
  @ApiProperty({ example: 10_000, description: 'New lease length from now (committed time)', minimum: 1, maximum: MAX_LOCK_TTL_MS })
  @IsInt()
  @Min(1)
  @Max(MAX_LOCK_TTL_MS)
  ttlMs: number;
}

/** NATS payload of `lock-manager.renew`. */
export class RenewLockRpcRequestDto extends RenewLockRequestDto {
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  resource: string;
}
