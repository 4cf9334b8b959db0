import { HashRing, RING_POSITION_SPACE } from './hash-ring';

/**
 * Which hash ranges change hands between two rings (a rebalance job's work list). A range is
 * [startPosition, endPosition) in the 32-bit position space. `from` are replicas that no longer
 * hold the range, `to` the ones that must receive it, `sources` every old replica (where the
 * bytes can be copied from).
 */
export interface RangeMove {
  readonly startPosition: number;
  readonly endPosition: number;
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly sources: readonly string[];
}

export interface MigrationPlan {
  readonly fromEpoch: number;
  readonly toEpoch: number;
  readonly replicationFactor: number;
  readonly moves: readonly RangeMove[];
  /** Fraction of the position space (so, of uniformly spread chunks) whose replica set changes. */
  readonly movedFraction: number;
}

export function planMigration(from: HashRing, to: HashRing, replicationFactor: number): MigrationPlan {
  const boundaries = Array.from(new Set([...from.tokens, ...to.tokens])).sort((a, b) => a - b);
  const moves: RangeMove[] = [];
  const push = (start: number, end: number, position: number) => {
    if (start >= end) return;
    const before = from.replicasAtPosition(position, replicationFactor).map((m) => m.nodeId);
    const after = to.replicasAtPosition(position, replicationFactor).map((m) => m.nodeId);
    const leaving = before.filter((n) => !after.includes(n)).sort();
    const arriving = after.filter((n) => !before.includes(n)).sort();
    if (arriving.length === 0 && leaving.length === 0) return;
    const sources = [...before].sort();
    const last = moves[moves.length - 1];
    if (last && last.endPosition === start && sameList(last.from, leaving) && sameList(last.to, arriving) && sameList(last.sources, sources)) {
      moves[moves.length - 1] = { ...last, endPosition: end };
    } else {
      moves.push({ startPosition: start, endPosition: end, from: leaving, to: arriving, sources });
    }
  };
  // Every position in [b[k-1]+1, b[k]+1) has the same successor token in both rings.
  push(0, boundaries[0] + 1, boundaries[0]);
  for (let k = 1; k < boundaries.length; k++) push(boundaries[k - 1] + 1, boundaries[k] + 1, boundaries[k]);
  push(boundaries[boundaries.length - 1] + 1, RING_POSITION_SPACE, RING_POSITION_SPACE - 1);

  const moved = moves.reduce((sum, m) => sum + (m.endPosition - m.startPosition), 0);
  return { fromEpoch: from.epoch, toEpoch: to.epoch, replicationFactor, moves, movedFraction: moved / RING_POSITION_SPACE };
}

/** The move covering `position`, if its replica set changes; moves are sorted and disjoint. */
export function moveAt(plan: MigrationPlan, position: number): RangeMove | undefined {
  let lo = 0;
  let hi = plan.moves.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (plan.moves[mid].endPosition <= position) lo = mid + 1;
    else hi = mid;
  }
  const m = plan.moves[lo];
  return m && m.startPosition <= position ? m : undefined;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
