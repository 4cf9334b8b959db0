import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Min } from 'class-validator';
import { MAX_NAME_LENGTH } from '../domain/lock-table.state-machine';

/** HTTP body of POST /locks/:resource/release. */
export class ReleaseLockRequestDto {
  @ApiProperty({ example: 'scheduler-1' })
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  owner: string;

  @ApiProperty({ example: 42, description: 'The token of the grant being released' })
  @IsInt()
  @Min(1)
  fencingToken: number;
}

/** NATS payload of `lock-manager.release`. */
export class ReleaseLockRpcRequestDto extends ReleaseLockRequestDto {
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  resource: string;
}
