import { BaseServiceConfig } from '@cairn/service-kit';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

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

  /**
   * true: the leader sends each append to its followers while its own fsync runs, not after it
   * (Raft thesis §10.2.1; a grant is still acknowledged only once durable on a majority). For
   * replicas with disks of their own, where an fsync takes milliseconds; off by default, because on
   * one host with a fast disk it only made batches smaller and cost more CPU per operation.
   */
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST = false;
}
