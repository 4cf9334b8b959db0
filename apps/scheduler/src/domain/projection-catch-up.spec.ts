import { projectionCatchUp } from './projection-catch-up';

describe('projectionCatchUp', () => {
  const STALL = 60_000;

  it.each([
    ['at the target', 100, null, { checkpoint: 100, atMs: 0 }, 0, 'caught-up'],
    ['past the target', 100, { checkpoint: 10, atMs: 0 }, { checkpoint: 150, atMs: 5 }, 5, 'caught-up'],
    ['first look, behind', 100, null, { checkpoint: 10, atMs: 0 }, 0, 'wait'],
    ['moving, far behind, long after the start', 100_000, { checkpoint: 50_000, atMs: 590_000 }, { checkpoint: 50_100, atMs: 600_000 }, 600_000, 'wait'],
    ['not moved for less than the stall time', 100, { checkpoint: 10, atMs: 0 }, { checkpoint: 10, atMs: 59_999 }, 59_999, 'wait'],
    ['not moved for the stall time', 100, { checkpoint: 10, atMs: 0 }, { checkpoint: 10, atMs: 60_000 }, 60_000, 'stalled'],
    ['status unreadable, recently moved', 100, { checkpoint: 10, atMs: 0 }, null, 30_000, 'wait'],
    ['status unreadable for the stall time', 100, { checkpoint: 10, atMs: 0 }, null, 60_000, 'stalled'],
  ] as const)('%s', (_name, target, lastMoved, sample, now, expected) => {
    expect(projectionCatchUp(target, lastMoved, sample, now, STALL).kind).toBe(expected);
  });

  it('remembers when the checkpoint last moved, not when it was last read', () => {
    const first = projectionCatchUp(100, null, { checkpoint: 10, atMs: 0 }, 0, STALL);
    const second = projectionCatchUp(100, first.kind === 'wait' ? first.lastMoved : null, { checkpoint: 10, atMs: 40_000 }, 40_000, STALL);
    expect(second).toEqual({ kind: 'wait', lastMoved: { checkpoint: 10, atMs: 0 } });
    expect(projectionCatchUp(100, second.kind === 'wait' ? second.lastMoved : null, { checkpoint: 10, atMs: 61_000 }, 61_000, STALL)).toEqual({ kind: 'stalled', sinceMs: 0 });
  });
});
