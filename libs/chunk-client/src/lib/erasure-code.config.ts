import { BaseServiceConfig } from '@cairn/service-kit';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { DEFAULT_ERASURE_CODE } from './storage-class-chunks';

/** The ring places at most 16 distinct replicas of a hash: a stripe is at most 12 data + 4 parity shards. */
export const MAX_EC_DATA_SHARDS = 12;
export const MAX_EC_PARITY_SHARDS = 4;

/**
 * The configuration of a service that writes erasure-coded stripes (the S3 gateway, and the
 * scheduler for lifecycle transitions): both read the same CAIRN_EC_* variables with the same
 * bounds, so a region's stripes get one code whichever process wrote them.
 */
export class ErasureCodingServiceConfig extends BaseServiceConfig {
  /**
   * The erasure code of STANDARD_IA and GLACIER_IR where the ring has data + parity nodes (4+2);
   * a smaller ring gets the widest code it can place (2+1 on three nodes; docs/storage-classes.md).
   */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(MAX_EC_DATA_SHARDS)
  CAIRN_EC_DATA_SHARDS: number = DEFAULT_ERASURE_CODE.dataShards;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_EC_PARITY_SHARDS)
  CAIRN_EC_PARITY_SHARDS: number = DEFAULT_ERASURE_CODE.parityShards;
}

/** The code StorageClassChunks is given (its `erasureCode` option), from the validated settings. */
export function erasureCodeOf(config: ErasureCodingServiceConfig): { readonly dataShards: number; readonly parityShards: number } {
  return { dataShards: config.CAIRN_EC_DATA_SHARDS, parityShards: config.CAIRN_EC_PARITY_SHARDS };
}
