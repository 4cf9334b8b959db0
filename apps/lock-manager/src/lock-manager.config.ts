import { BaseServiceConfig } from '@cairn/service-kit';
import { IsOptional, IsString, MinLength } from 'class-validator';

export class LockManagerConfig extends BaseServiceConfig {
  /** Where this replica keeps its Raft log and snapshots; defaults to .cairn/lock-manager/<instance>. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  CAIRN_DATA_DIR?: string;
}
