import type { BucketHomeView, ControlGroupView } from '@cairn/protocol';
import { scheduledDrillDecision } from './drill-schedule';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const bucket = (name: string, state: BucketHomeView['state'] = 'serving'): BucketHomeView => ({ bucket: name, home: 'region-1', epoch: 1, state, switchingTo: state === 'draining' ? 'region-2' : null, since: '2026-12-03T07:00:00Z', reason: 'registered' });

function view(overrides: Partial<ControlGroupView> = {}, down: string[] = []): ControlGroupView {
  const voters = overrides.voters ?? ['region-1', 'region-2', 'region-3'];
  return {
    region: 'region-2',
    voters,
    role: 'follower',
    leader: 'region-1',
    term: 3,
    appliedIndex: 40,
    regions: voters.map((region) => ({ region, reportedDownBy: [], down: down.includes(region) })),
    buckets: [bucket('orders')],
    checks: [],
    leaseRemainingMs: 0,
    drill: null,
    ...overrides,
  };
}

describe('scheduledDrillDecision', () => {
  it.each<[string, ControlGroupView | null, boolean, string]>([
    ['a healthy federation of three', view(), true, ''],
    ['no sync answered', null, false, 'no region of the profile answered'],
    ['the target is not a voter', view({ voters: ['region-2', 'region-3', 'region-4'] }), false, 'region-1 is not a region of the control group'],
    ['two regions only', view({ voters: ['region-1', 'region-2'] }), false, 'a drill needs three'],
    ['no leader', view({ leader: '' }), false, 'no leader'],
    ['a region is down for real', view({}, ['region-3']), false, 'region-3 is down: no drill on top of a real outage'],
    ['a switchover is draining a bucket', view({ buckets: [bucket('orders', 'draining')] }), false, 'a switchover is moving orders'],
    ['another drill holds the federation', view({ drill: { id: 'd-1', region: 'region-3', by: 'cairn drill run', until: '2026-12-03T08:05:00Z' } }), false, 'drill d-1 (region-3 out'],
    ["another drill's claim has lapsed", view({ drill: { id: 'd-1', region: 'region-3', by: 'scheduler', until: '2026-12-03T07:55:00Z' } }), true, ''],
  ])('%s', (_name, v, run, reason) => {
    const decision = scheduledDrillDecision('region-1', v, NOW);
    expect(decision.run).toBe(run);
    if (!decision.run) expect(decision.reason).toContain(reason);
  });
});
