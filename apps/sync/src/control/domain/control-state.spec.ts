import {
  applyControlCommand,
  bucketsNeedingFailover,
  chooseNewHome,
  committedReportOf,
  initialControlState,
  isDown,
  majorityOf,
  reportersOf,
  type ControlCommand,
  type ControlState,
} from './control-state';

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:05:00.000Z';
const VOTERS = ['r3', 'r1', 'r2'];

/** Applies commands in order; every one must be accepted. */
function build(commands: readonly ControlCommand[], voters: readonly string[] = VOTERS): ControlState {
  let state = initialControlState(voters);
  for (const c of commands) {
    const { state: next, result } = applyControlCommand(state, c);
    if (!result.ok) throw new Error(`setup command ${c.type} refused: ${result.reason}`);
    state = next;
  }
  return state;
}

const register = (bucket = 'photos', home = 'r1'): ControlCommand => ({ type: 'RegisterBucket', bucket, home, at: AT });
/** Reports in the order written: each later than the one before. */
let nextSeq = 1;
const report = (observer: string, ...down: string[]): ControlCommand => ({ type: 'ReportRegions', observer, down, seq: nextSeq++ });
const promote = (from: string, to: string, epoch: number, bucket = 'photos'): ControlCommand => ({ type: 'PromoteHome', bucket, from, to, epoch, at: LATER });
const begin = (to: string, epoch: number, bucket = 'photos'): ControlCommand => ({ type: 'BeginSwitchover', bucket, to, epoch, at: LATER });
const complete = (to: string, epoch: number, bucket = 'photos'): ControlCommand => ({ type: 'CompleteSwitchover', bucket, to, epoch, at: LATER });
const cancel = (epoch: number, bucket = 'photos'): ControlCommand => ({ type: 'CancelSwitchover', bucket, epoch });

/** r1 (the home) is down by r2 and r3: a majority of three. */
const R1_DOWN = [register(), report('r2', 'r1'), report('r3', 'r1')];

describe('control state', () => {
  describe('majorities and down regions', () => {
    it.each([
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 3],
      [5, 3],
    ])('%i voters: a majority is %i', (n, majority) => {
      expect(majorityOf(Array.from({ length: n }, (_, i) => `r${i}`))).toBe(majority);
    });

    it('sorts the voters, so every region holds the same state', () => {
      expect(initialControlState(['r3', 'r1', 'r2']).voters).toEqual(['r1', 'r2', 'r3']);
    });

    it.each<[string, ControlCommand[], string, string[], boolean]>([
      ['nobody reports', [], 'r1', [], false],
      ['one of two needed', [report('r2', 'r1')], 'r1', ['r2'], false],
      ['two of three: a majority', [report('r2', 'r1'), report('r3', 'r1')], 'r1', ['r2', 'r3'], true],
      ['a later report replaces the earlier one', [report('r2', 'r1'), report('r3', 'r1'), report('r3')], 'r1', ['r2'], false],
      ['reports of other regions do not count', [report('r2', 'r3'), report('r3', 'r2')], 'r1', [], false],
    ])('%s', (_name, commands, region, reporters, down) => {
      const state = build(commands);
      expect(reportersOf(state, region)).toEqual(reporters);
      expect(isDown(state, region)).toBe(down);
    });

    it('a region cannot report itself down, nor count toward its own majority', () => {
      const state = build([report('r1', 'r1', 'r2')]);
      expect(state.reports['r1']).toEqual(['r2']);
      expect(reportersOf(state, 'r1')).toEqual([]);
    });

    it('a report older than the one the group holds is refused: a region that saw a peer come back is not overtaken by its own late "down"', () => {
      const down = { type: 'ReportRegions', observer: 'r2', down: ['r1'], seq: 10 } as const;
      const up = { type: 'ReportRegions', observer: 'r2', down: [], seq: 11 } as const;
      const state = build([up]);
      const { state: after, result } = applyControlCommand(state, down);
      expect(result).toEqual({ ok: false, reason: 'a later report of r2 (11) has applied; this one (10) is stale' });
      expect(after).toBe(state);
      expect(committedReportOf(after, 'r2')).toEqual({ down: [], seq: 11 });
      // The same sequence number twice: the second is a duplicate.
      expect(applyControlCommand(state, up).result.ok).toBe(false);
      // Sequence numbers are per observer.
      expect(applyControlCommand(state, { ...down, observer: 'r3' }).result.ok).toBe(true);
    });

    it('committedReportOf: none before the first report; a state from before sequence numbers counts as 0', () => {
      expect(committedReportOf(initialControlState(VOTERS), 'r1')).toBeUndefined();
      const legacy: ControlState = { voters: ['r1', 'r2', 'r3'], buckets: {}, reports: { r2: ['r1'] } };
      expect(committedReportOf(legacy, 'r2')).toEqual({ down: ['r1'], seq: 0 });
      const { state, result } = applyControlCommand(legacy, { type: 'ReportRegions', observer: 'r2', down: [], seq: 5 });
      expect(result.ok).toBe(true);
      expect(committedReportOf(state, 'r2')).toEqual({ down: [], seq: 5 });
    });

    it('five regions: three reporters make a majority, two do not', () => {
      const voters = ['r1', 'r2', 'r3', 'r4', 'r5'];
      expect(isDown(build([report('r2', 'r1'), report('r3', 'r1')], voters), 'r1')).toBe(false);
      expect(isDown(build([report('r2', 'r1'), report('r3', 'r1'), report('r4', 'r1')], voters), 'r1')).toBe(true);
    });
  });

  describe('guards, checked when a command applies', () => {
    it.each<[string, ControlCommand[], ControlCommand, RegExp]>([
      // RegisterBucket
      ['RegisterBucket: a home outside the group', [], register('photos', 'r9'), /not a region of the control group/],
      // ReportRegions
      ['ReportRegions: an observer outside the group', [], report('r9', 'r1'), /not a region of the control group/],
      // PromoteHome
      ['PromoteHome: unknown bucket', [], promote('r1', 'r2', 1), /not in the control group/],
      ['PromoteHome: the home is not down by a majority', [register(), report('r2', 'r1')], promote('r1', 'r2', 1), /not down by a majority/],
      ['PromoteHome: a stale epoch', R1_DOWN, promote('r1', 'r2', 2), /at epoch 1 with home r1/],
      ['PromoteHome: from is not the home', [register(), report('r1', 'r2'), report('r3', 'r2')], promote('r2', 'r3', 1), /with home r1, not 1\/r2/],
      ['PromoteHome: to itself', R1_DOWN, promote('r1', 'r1', 1), /cannot take over/],
      ['PromoteHome: to a region outside the group', R1_DOWN, promote('r1', 'r9', 1), /cannot take over/],
      ['PromoteHome: to a region down by a majority', [...R1_DOWN, report('r1', 'r2'), report('r3', 'r1', 'r2')], promote('r1', 'r2', 1), /r2 is down by a majority/],
      // BeginSwitchover
      ['BeginSwitchover: unknown bucket', [], begin('r2', 1), /not in the control group/],
      ['BeginSwitchover: a stale epoch', [register()], begin('r2', 2), /at epoch 1, not 2/],
      ['BeginSwitchover: already draining', [register(), begin('r2', 1)], begin('r3', 1), /already switching to r2/],
      ['BeginSwitchover: to the home itself', [register()], begin('r1', 1), /cannot take over/],
      ['BeginSwitchover: to a region outside the group', [register()], begin('r9', 1), /cannot take over/],
      ['BeginSwitchover: the home is down by a majority', R1_DOWN, begin('r2', 1), /r1 is down by a majority/],
      ['BeginSwitchover: the target is down by a majority', [register(), report('r1', 'r2'), report('r3', 'r2')], begin('r2', 1), /r2 is down by a majority/],
      // CompleteSwitchover
      ['CompleteSwitchover: unknown bucket', [], complete('r2', 1), /not in the control group/],
      ['CompleteSwitchover: not draining', [register()], complete('r2', 1), /not switching to r2 at epoch 1/],
      ['CompleteSwitchover: to another target', [register(), begin('r2', 1)], complete('r3', 1), /not switching to r3/],
      ['CompleteSwitchover: a stale epoch', [register(), begin('r2', 1)], complete('r2', 2), /at epoch 2/],
      ['CompleteSwitchover: after a cancel', [register(), begin('r2', 1), cancel(1)], complete('r2', 1), /not switching/],
      // CancelSwitchover
      ['CancelSwitchover: unknown bucket', [], cancel(1), /has no switchover/],
      ['CancelSwitchover: not draining', [register()], cancel(1), /has no switchover at epoch 1/],
      ['CancelSwitchover: a stale epoch', [register(), begin('r2', 1)], cancel(2), /has no switchover at epoch 2/],
    ])('%s is refused, the state unchanged', (_name, setup, command, reason) => {
      const state = build(setup);
      const { state: after, result } = applyControlCommand(state, command);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(reason);
      expect(after).toBe(state);
    });
  });

  describe('accepted commands', () => {
    it('RegisterBucket: the configured home at epoch 1, serving', () => {
      const { state, result } = applyControlCommand(initialControlState(VOTERS), register('photos', 'r2'));
      expect(result).toEqual({ ok: true, bucket: { bucket: 'photos', home: 'r2', epoch: 1, state: 'serving', switchingTo: null, since: AT, reason: 'registered' } });
      expect(state.buckets['photos']?.home).toBe('r2');
    });

    it('RegisterBucket again (any home) keeps what the group holds: a late registration never undoes a failover', () => {
      const state = build([...R1_DOWN, promote('r1', 'r2', 1)]);
      const { state: after, result } = applyControlCommand(state, register('photos', 'r1'));
      expect(after).toBe(state);
      expect(result).toEqual({ ok: true, bucket: state.buckets['photos'] });
      expect(after.buckets['photos']).toMatchObject({ home: 'r2', epoch: 2 });
    });

    it('UnregisterBucket forgets the bucket; unknown buckets are a no-op', () => {
      const state = build([register('photos'), register('logs', 'r2')]);
      const { state: after, result } = applyControlCommand(state, { type: 'UnregisterBucket', bucket: 'photos' });
      expect(result.ok).toBe(true);
      expect(Object.keys(after.buckets)).toEqual(['logs']);
      expect(applyControlCommand(after, { type: 'UnregisterBucket', bucket: 'photos' }).state).toBe(after);
    });

    it('RegisterBucket after UnregisterBucket starts above the epoch the bucket had: epochs never go back', () => {
      const state = build([...R1_DOWN, promote('r1', 'r2', 1), { type: 'UnregisterBucket', bucket: 'photos' }, register('photos', 'r1')]);
      expect(state.buckets['photos']).toMatchObject({ home: 'r1', epoch: 3, reason: 'registered' });
      expect(build([register('logs', 'r3')]).buckets['logs']?.epoch).toBe(1);
    });

    it('ReportRegions keeps a sorted, de-duplicated list of voters other than the observer', () => {
      const state = build([report('r1', 'r3', 'r9', 'r2', 'r3', 'r1')]);
      expect(state.reports['r1']).toEqual(['r2', 'r3']);
    });

    it('PromoteHome: the new home at the next epoch, serving, by failover', () => {
      const { state, result } = applyControlCommand(build(R1_DOWN), promote('r1', 'r3', 1));
      expect(result.ok).toBe(true);
      expect(state.buckets['photos']).toEqual({ bucket: 'photos', home: 'r3', epoch: 2, state: 'serving', switchingTo: null, since: LATER, reason: 'failover' });
    });

    it('PromoteHome during a drain: the failover wins and the drain ends', () => {
      const state = build([register(), begin('r2', 1), report('r2', 'r1'), report('r3', 'r1'), promote('r1', 'r3', 1)]);
      expect(state.buckets['photos']).toMatchObject({ home: 'r3', epoch: 2, state: 'serving', switchingTo: null });
    });

    it('a second PromoteHome on the same view is refused: one failover per epoch', () => {
      const state = build([...R1_DOWN, promote('r1', 'r2', 1)]);
      expect(applyControlCommand(state, promote('r1', 'r3', 1)).result.ok).toBe(false);
    });

    it('switchover: begin drains (same home and epoch), complete moves the home at the next epoch', () => {
      const drained = build([register(), begin('r3', 1)]);
      expect(drained.buckets['photos']).toMatchObject({ home: 'r1', epoch: 1, state: 'draining', switchingTo: 'r3' });
      const { state, result } = applyControlCommand(drained, complete('r3', 1));
      expect(result.ok).toBe(true);
      expect(state.buckets['photos']).toEqual({ bucket: 'photos', home: 'r3', epoch: 2, state: 'serving', switchingTo: null, since: LATER, reason: 'switchover' });
    });

    it('switchover: cancel serves again at the same home and epoch', () => {
      const state = build([register(), begin('r3', 1), cancel(1)]);
      expect(state.buckets['photos']).toMatchObject({ home: 'r1', epoch: 1, state: 'serving', switchingTo: null, reason: 'registered' });
    });

    it('a region reported down by a minority only may still be switched to', () => {
      expect(build([register(), report('r1', 'r2'), begin('r2', 1)]).buckets['photos']?.state).toBe('draining');
    });
  });

  describe('epochs only grow', () => {
    it('over any sequence of accepted and refused commands', () => {
      const commands: ControlCommand[] = [
        register(),
        begin('r2', 1),
        complete('r2', 1),
        report('r1', 'r2'),
        report('r3', 'r2'),
        promote('r2', 'r1', 2),
        promote('r2', 'r3', 2),
        begin('r3', 3),
        cancel(3),
        register('photos', 'r2'),
        begin('r3', 3),
        complete('r3', 3),
      ];
      let state = initialControlState(VOTERS);
      const epochs: number[] = [];
      for (const c of commands) {
        state = applyControlCommand(state, c).state;
        epochs.push(state.buckets['photos']?.epoch ?? 0);
      }
      expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
      expect(state.buckets['photos']).toMatchObject({ home: 'r3', epoch: 4 });
    });
  });

  describe('failover decisions', () => {
    it('bucketsNeedingFailover: the buckets whose home is down by a majority', () => {
      const state = build([register('photos', 'r1'), register('logs', 'r2'), register('tmp', 'r1'), report('r2', 'r1'), report('r3', 'r1')]);
      expect(bucketsNeedingFailover(state).map((b) => b.bucket).sort()).toEqual(['photos', 'tmp']);
      expect(bucketsNeedingFailover(build([register(), report('r2', 'r1')]))).toEqual([]);
    });

    it.each<[string, { region: string; appliedThrough: number }[], string | null]>([
      ['no candidate', [], null],
      ['the most applied', [{ region: 'r3', appliedThrough: 5 }, { region: 'r2', appliedThrough: 9 }], 'r2'],
      ['a tie goes to the lowest name', [{ region: 'r3', appliedThrough: 7 }, { region: 'r2', appliedThrough: 7 }], 'r2'],
      ['one candidate', [{ region: 'r5', appliedThrough: 0 }], 'r5'],
    ])('chooseNewHome: %s', (_name, progress, chosen) => {
      expect(chooseNewHome(progress)).toBe(chosen);
    });
  });
  describe('one drill at a time', () => {
    const T0 = '2026-01-01T00:00:00.000Z';
    const T1 = '2026-01-01T00:01:00.000Z';
    const T2 = '2026-01-01T00:03:00.000Z';
    const claim = (id: string, at: string, until: string, region = 'r1'): ControlCommand => ({ type: 'ClaimDrill', id, region, by: 'scheduler in r2', at, until });
    const release = (id: string): ControlCommand => ({ type: 'ReleaseDrill', id });

    it.each<[string, ControlCommand[], ControlCommand, boolean]>([
      ['no drill holds the federation', [], claim('b', T1, T2), true],
      ['another drill holds it until later', [claim('a', T0, T2)], claim('b', T1, T2), false],
      ["another drill's claim has lapsed", [claim('a', T0, T1)], claim('b', T2, T2), true],
      ['the same drill renews', [claim('a', T0, T1)], claim('a', T1, T2), true],
      ['the other drill released it', [claim('a', T0, T2), release('a')], claim('b', T1, T2), true],
      ["releasing another drill's id leaves the claim", [claim('a', T0, T2), release('b')], claim('b', T1, T2), false],
    ])('%s', (_name, before, command, granted) => {
      const { state, result } = applyControlCommand(build(before), command);
      expect(result.ok).toBe(granted);
      if (granted) expect(state.drill).toMatchObject({ id: (command as { id: string }).id });
    });
  });
});
