import { BaseServiceConfig } from '@cairn/service-kit';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';

export class SyncConfig extends BaseServiceConfig {
  /**
   * The other regions of the federation, comma-separated (`region-2,region-3`): this region sources
   * each one's META stream from its JetStream domain (the region name) and applies its changes of
   * replicated buckets. Empty: a region on its own (nothing replicates).
   */
  @IsString()
  @Matches(/^([a-z0-9][a-z0-9-]{0,62}(,[a-z0-9][a-z0-9-]{0,62})*)?$/, { message: 'must be comma-separated region names' })
  CAIRN_SYNC_PEERS = '';

  /** How many of a peer's changes are pulled from its stream at a time (they apply as they arrive). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(4096)
  CAIRN_SYNC_BATCH = 256;

  /** Keys whose changes apply at once, per peer. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  CAIRN_SYNC_APPLY_CONCURRENCY = 16;

  /** Anti-entropy (docs/anti-entropy.md): between comparisons of every replicated bucket with every peer; 0: only when a link heals or an operator asks. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  CAIRN_ANTI_ENTROPY_INTERVAL_MS = 300_000;

  /** Anti-entropy: between probes of each peer's sync (how soon a healed link is noticed and compared). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  CAIRN_ANTI_ENTROPY_PROBE_MS = 5_000;

  /** Anti-entropy: one request to a peer's sync (the first builds the peer's tree of the bucket). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  CAIRN_ANTI_ENTROPY_TIMEOUT_MS = 30_000;

  /** Anti-entropy: `lock` — only the holder of the lock-manager lease `sync-anti-entropy` compares; `none` — every instance does (run one sync). */
  @IsIn(['lock', 'none'])
  CAIRN_ANTI_ENTROPY_LEASE: 'lock' | 'none' = 'lock';

  /**
   * Control group (docs/failover.md): where this region's voter keeps its Raft log. One directory
   * per region, on a disk that survives restarts; empty: `.cairn/control/<region>` under the
   * working directory.
   */
  @IsString()
  CAIRN_CONTROL_DIR = '';

  /** Control group: between two checks of each other region. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  CAIRN_FAILOVER_CHECK_MS = 1_000;

  /** Control group: consecutive failed checks (seen by a majority of regions) before a home fails over. */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(100)
  CAIRN_FAILOVER_CHECKS = 3;

  /**
   * Control group: how long a home may acknowledge writes after its last contact with a majority;
   * 0: two thirds of the failover window (checks × check interval). Must be shorter than the window.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  CAIRN_HOME_LEASE_MS = 0;
}

/** The home lease in ms: configured, or two thirds of the failover window. */
export function homeLeaseMsOf(config: Pick<SyncConfig, 'CAIRN_HOME_LEASE_MS' | 'CAIRN_FAILOVER_CHECK_MS' | 'CAIRN_FAILOVER_CHECKS'>): number {
  return config.CAIRN_HOME_LEASE_MS > 0 ? config.CAIRN_HOME_LEASE_MS : Math.floor((config.CAIRN_FAILOVER_CHECK_MS * config.CAIRN_FAILOVER_CHECKS * 2) / 3);
}

/** The configured peers, without this region itself. */
export function syncPeersOf(config: Pick<SyncConfig, 'CAIRN_SYNC_PEERS'>, self: string): string[] {
  return [...new Set(config.CAIRN_SYNC_PEERS.split(',').map((p) => p.trim()).filter((p) => p.length > 0 && p !== self))];
}
