import { BaseServiceConfig } from '@cairn/service-kit';
import { IsOptional, IsString, MinLength } from 'class-validator';

export class StorageConfig extends BaseServiceConfig {
  /** Where this node keeps its chunks; defaults to .cairn/storage/<instance>. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  CAIRN_DATA_DIR?: string;
}
