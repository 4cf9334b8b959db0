import { IsString, Length } from 'class-validator';
import { MAX_NAME_LENGTH } from '../domain/lock-table.state-machine';

/** NATS payload of `lock-manager.inspect` (HTTP takes the resource from the path). */
export class InspectLockRpcRequestDto {
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  resource: string;
}
