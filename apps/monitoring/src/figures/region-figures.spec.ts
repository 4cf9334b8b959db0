import type { ControlGroupView } from '@cairn/protocol';
import { parsePrometheusText } from './prometheus-text';
import { controlFiguresOf, controlGroupOf, replicationFactorOf, syncMetricsOf } from './region-figures';

/** What region-1's sync serves at /metrics with two peers (prom-client's text, trimmed). */
const SYNC_METRICS = [
  '# HELP cairn_replication_lag_seconds Age of the oldest change of the source region not yet applied here (the measured RPO)',
  '# TYPE cairn_replication_lag_seconds gauge',
  'cairn_replication_lag_seconds{source="region-2",target="region-1"} 0.25',
  'cairn_replication_lag_seconds{source="region-3",target="region-1"} 12',
  'cairn_replication_pending_events{source="region-2",target="region-1"} 0',
  'cairn_replication_pending_events{source="region-3",target="region-1"} 57',
  'cairn_replication_link_up{source="region-2",target="region-1"} 1',
  'cairn_replication_link_up{source="region-3",target="region-1"} 0',
  'cairn_control_leader 1',
  'cairn_control_lease_seconds 1.734',
  'cairn_control_region_down{region="region-1"} 0',
  'cairn_control_region_down{region="region-2"} 0',
  'cairn_control_region_down{region="region-3"} 1',
  'cairn_control_failovers 1',
  'http_requests_total{method="GET",route="/metrics",status="200"} 4',
].join('\n');

describe('syncMetricsOf', () => {
  it('reads the lag into this region from each other region, and the control group’s leader, lease and regions down', () => {
    const metrics = syncMetricsOf(parsePrometheusText(SYNC_METRICS).samples, 'region-1');
    expect(metrics).toEqual({
      replicationLag: [
        { region: 'region-2', lagMs: 250, pendingEvents: 0, linkUp: true },
        { region: 'region-3', lagMs: 12_000, pendingEvents: 57, linkUp: false },
      ],
      control: {
        leader: true,
        leaseSeconds: 1.734,
        failovers: 1,
        regionsDown: [
          { region: 'region-1', down: false },
          { region: 'region-2', down: false },
          { region: 'region-3', down: true },
        ],
      },
    });
  });

  it('is null for a service that is not a sync, and has no lag for a region alone', () => {
    expect(syncMetricsOf(parsePrometheusText('http_requests_total{status="200"} 4\ncairn_metadata_projection_lag_events{stream="META"} 0').samples, 'region-1')).toBeNull();
    const alone = syncMetricsOf(parsePrometheusText('cairn_control_leader 0\ncairn_control_lease_seconds 1000000\ncairn_control_region_down{region="region-1"} 0').samples, 'region-1');
    expect(alone).toEqual({ replicationLag: [], control: { leader: false, leaseSeconds: 1e6, failovers: null, regionsDown: [{ region: 'region-1', down: false }] } });
  });
});

const GROUP: ControlGroupView = {
  region: 'region-1',
  voters: ['region-1', 'region-2', 'region-3'],
  role: 'leader',
  leader: 'region-1',
  term: 3,
  appliedIndex: 17,
  regions: [
    { region: 'region-1', reportedDownBy: [], down: false },
    { region: 'region-2', reportedDownBy: [], down: false },
    { region: 'region-3', reportedDownBy: ['region-1', 'region-2'], down: true },
  ],
  buckets: [{ bucket: 'photos', home: 'region-2', epoch: 2, state: 'serving', switchingTo: null, since: '2026-12-02T10:00:00.000Z', reason: 'failover' }],
  checks: [],
  leaseRemainingMs: 1_700,
};

describe('controlFiguresOf', () => {
  const control = syncMetricsOf(parsePrometheusText(SYNC_METRICS).samples, 'region-1')!.control;

  it('joins the metrics with GET /control: who reported each region down, every bucket’s home and epoch', () => {
    const figures = controlFiguresOf('sync-1', control, { fetchedAt: '2026-12-02T10:00:01.000Z', view: GROUP }, null);
    expect(figures?.regions).toEqual([
      { region: 'region-1', down: false, reportedDownBy: [] },
      { region: 'region-2', down: false, reportedDownBy: [] },
      { region: 'region-3', down: true, reportedDownBy: ['region-1', 'region-2'] },
    ]);
    expect(figures?.group).toMatchObject({ leader: 'region-1', term: 3, buckets: [{ bucket: 'photos', home: 'region-2', epoch: 2 }] });
    expect(figures).toMatchObject({ instance: 'sync-1', leader: true, leaseSeconds: 1.734, failovers: 1, groupError: null });
  });

  it('keeps what the metrics say when GET /control fails, with the reason; is null with neither', () => {
    const figures = controlFiguresOf('sync-1', control, null, 'GET /control on sync-1: answered 503');
    expect(figures).toMatchObject({ group: null, groupError: 'GET /control on sync-1: answered 503', leader: true });
    expect(figures?.regions.map((r) => [r.region, r.down, r.reportedDownBy])).toEqual([
      ['region-1', false, null],
      ['region-2', false, null],
      ['region-3', true, null],
    ]);
    expect(controlFiguresOf('sync-1', null, null, 'no live sync')).toBeNull();
  });

  it('takes GET /control only when it is the control group', () => {
    expect(controlGroupOf(GROUP)).toBe(GROUP);
    expect(controlGroupOf({ ...GROUP, buckets: [{ bucket: 'x' }] })).toBeNull();
    expect(controlGroupOf('<html>')).toBeNull();
    expect(controlGroupOf(null)).toBeNull();
  });
});

describe('replicationFactorOf', () => {
  it('reads a whole positive number of copies from the heartbeat figures, and nothing else', () => {
    expect(replicationFactorOf({ replicationFactor: 3, capacityBytes: 10 })).toBe(3);
    expect(replicationFactorOf({ replicationFactor: 1 })).toBe(1);
    expect(replicationFactorOf({ replicationFactor: '3' })).toBeNull();
    expect(replicationFactorOf({ replicationFactor: 0 })).toBeNull();
    expect(replicationFactorOf({ replicationFactor: 2.5 })).toBeNull();
    expect(replicationFactorOf({})).toBeNull();
    expect(replicationFactorOf(null)).toBeNull();
  });
});
