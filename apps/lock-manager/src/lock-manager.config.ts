import { BaseServiceConfig } from '@cairn/service-kit';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

export const DEFAULT_RAFT_SNAPSHOT_EVERY_ENTRIES = 2_000;
const MAX_RAFT_SNAPSHOT_EVERY_ENTRIES = 1_000_000;
const PEER_LIST_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}(,[a-z0-9][a-z0-9-]{0,62}){0,6}$/;

export class LockManagerConfig extends BaseServiceConfig {
  /** Where this replica keeps its Raft log and snapshots; defaults to .cairn/lock-manager/<instance>. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  CAIRN_DATA_DIR?: string;

  /**
   * The instances (CAIRN_INSTANCE names) of this region's Raft group, this one included, e.g.
   * `lock-manager-1,lock-manager-2,lock-manager-3`. Unset: a group of one (development, tests).
   */
  @IsOptional()
  @IsString()
  @Matches(PEER_LIST_PATTERN, { message: 'must be 1-7 comma-separated instance names (lowercase letters, digits, "-")' })
  CAIRN_RAFT_PEERS?: string;

  /** Snapshot the lock table and compact the Raft log after this many applied entries. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_RAFT_SNAPSHOT_EVERY_ENTRIES)
  CAIRN_RAFT_SNAPSHOT_EVERY_ENTRIES = DEFAULT_RAFT_SNAPSHOT_EVERY_ENTRIES;
}
