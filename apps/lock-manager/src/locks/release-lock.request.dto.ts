import { IsString, Length } from 'class-validator';
import { MAX_NAME_LENGTH } from '../domain/lock-table.state-machine';
import { LeaseHolderRequestDto } from './lease-holder.request.dto';

/** HTTP body of POST /locks/:resource/release. */
export class ReleaseLockRequestDto extends LeaseHolderRequestDto {}

/** NATS payload of `lock-manager.release`. */
export class ReleaseLockRpcRequestDto extends ReleaseLockRequestDto {
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  resource: string;
}
