import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Min } from 'class-validator';
import { LEASE_SECRET_MAX_LENGTH, LEASE_SECRET_MIN_LENGTH, LEASE_SECRET_PATTERN } from '@cairn/protocol';
import { MAX_NAME_LENGTH } from '../domain/lock-table.state-machine';

/** What names a held grant in a renew or a release: its owner, its token and its secret. */
export class LeaseHolderRequestDto {
  @ApiProperty({ example: 'scheduler-1' })
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  owner: string;

  @ApiProperty({ example: 42, description: 'The token of the grant being renewed or released' })
  @IsInt()
  @Min(1)
  fencingToken: number;

  @ApiProperty({ description: 'The grant’s leaseSecret (from acquire): only the holder can renew or release', minLength: LEASE_SECRET_MIN_LENGTH, maxLength: LEASE_SECRET_MAX_LENGTH })
  @IsString()
  @Length(LEASE_SECRET_MIN_LENGTH, LEASE_SECRET_MAX_LENGTH)
  @Matches(LEASE_SECRET_PATTERN)
  leaseSecret: string;
}
