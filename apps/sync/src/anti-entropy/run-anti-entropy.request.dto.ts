import { IsOptional, IsString, Matches } from 'class-validator';

/** POST /replication/anti-entropy: both optional; without them every replicated bucket against every peer. */
export class RunAntiEntropyRequestDto {
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'bucket must be a bucket name' })
  bucket?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'peer must be a region name' })
  peer?: string;
}
