import type { SeededRandom } from '../lib/random-source';

/** The fault mix one seed draws: every knob a named, bounded quantity. */
export interface FaultProfile {
  readonly nodeCount: number;
  readonly dropProbability: number;
  readonly duplicateProbability: number;
  readonly minDelayMs: number;
  /** Extra random delay; a spread larger than the gap between sends reorders messages. */
  readonly delayJitterMs: number;
  readonly partitions: boolean;
  readonly crashes: boolean;
  readonly leaderTransfers: boolean;
  /** Per-node tick periods differ by up to this fraction. */
  readonly tickSkew: number;
  readonly fsyncMs: number;
  readonly snapshotThresholdEntries: number;
  readonly meanFaultIntervalMs: number;
  /** Small batches let a follower acknowledge an old term's entries apart from the new leader's own. */
  readonly maxEntriesPerAppend: number;
  /**
   * Figure-8 histories (Raft §5.4.2): a leader's entries reach only a minority, another leader of a
   * later term appends in isolation, the first side elects again and is cut off as soon as its
   * commit index moves. An entry committed by counting replicas then gets overwritten.
   */
  readonly figure8: boolean;
  /** Chance that a node crashes (and restarts quickly) right after granting a vote. */
  readonly voteCrashProbability: number;
}

export const BASE_TICK_MS = 10;
const MAX_TICK_SKEW = 0.3;

export function drawFaultProfile(random: SeededRandom): FaultProfile {
  return {
    nodeCount: random.chance(0.3) ? 5 : 3,
    dropProbability: random.pick([0, 0.01, 0.05, 0.15]),
    duplicateProbability: random.pick([0, 0.02, 0.1]),
    minDelayMs: random.between(1, 5),
    delayJitterMs: random.pick([0, 5, 20, 60]),
    partitions: random.chance(0.6),
    crashes: random.chance(0.6),
    leaderTransfers: random.chance(0.3),
    tickSkew: random.chance(0.5) ? random.nextFloat() * MAX_TICK_SKEW : 0,
    fsyncMs: random.between(1, 6),
    snapshotThresholdEntries: random.pick([8, 20, 60]),
    meanFaultIntervalMs: random.pick([100, 300, 1_000]),
    maxEntriesPerAppend: random.pick([1, 2, 4, 16]),
    figure8: random.chance(0.4),
    voteCrashProbability: random.chance(0.4) ? random.pick([0.2, 0.5, 1]) : 0,
  };
}

export function describeProfile(p: FaultProfile): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`)
    .join(' ');
}
