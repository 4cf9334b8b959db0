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
  };
}

export function describeProfile(p: FaultProfile): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`)
    .join(' ');
}
