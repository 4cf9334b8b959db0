import type { DrillReport, Heartbeat, JobProgressView, StorageNodeView } from '@cairn/protocol';
import type { ControlFigures } from './dashboard-sources.port';
import { controlPanel, DashboardHistory, drillRow, drillRows, historyPoint, instanceRows, nodeRows, regionSummaries, type HistoryPoint, type WatchedInstance } from './dashboard.view';

const GiB = 1024 ** 3;

function heartbeat(service: string, instance: string, extra?: Heartbeat['extra'], eventLoopLagMs = 2): Heartbeat {
  return {
    region: 'region-1',
    service,
    instance,
    version: '0.1.0',
    uptimeSeconds: 42,
    sentAt: '2026-12-02T07:00:00.000Z',
    load: { loadAverage1m: 0.5, rssBytes: 100 * 1024 * 1024, heapUsedBytes: 50 * 1024 * 1024, eventLoopLagMs, inFlightRequests: 1 },
    ...(extra ? { extra } : {}),
  };
}

function watched(service: string, instance: string, status: WatchedInstance['status'], hb: Heartbeat | null = heartbeat(service, instance), region = 'region-1'): WatchedInstance {
  return { region, service, instance, status, phi: status === 'down' ? Infinity : 0.4, lastHeartbeatAt: hb ? '2026-12-02T07:00:00.000Z' : null, heartbeat: hb };
}

function member(nodeId: string, zone: string, extra: Partial<StorageNodeView> = {}): StorageNodeView {
  return { nodeId, zone, host: `host-${nodeId}`, address: `http://127.0.0.1:92${nodeId.slice(-1)}0`, weight: 1, capacityBytes: 0, draining: false, joinedAt: '2026-12-01T00:00:00.000Z', epoch: 1, ...extra };
}

function job(kind: JobProgressView['kind'], state: JobProgressView['state'], ratePerSecond: number | null, rateUnit: 'bytes' | 'items' = 'bytes'): JobProgressView {
  return { id: `${kind}-${state}`, kind, title: kind, state, doneItems: 0, totalItems: 0, doneBytes: 0, totalBytes: 0, fractionDone: 0, ratePerSecond, rateUnit, etaSeconds: null, startedAt: null, finishedAt: null };
}

describe('nodeRows', () => {
  it('gives every ring member its zone and the health and disk of the storage instance of the same id', () => {
    const rows = nodeRows(
      [member('storage-2', 'zone-b', { draining: true }), member('storage-1', 'zone-a')],
      [
        watched('storage', 'storage-1', 'up', heartbeat('storage', 'storage-1', { capacityBytes: 100 * GiB, freeBytes: 25 * GiB, chunkCount: 7 })),
        watched('storage', 'storage-2', 'down'),
        watched('metadata', 'storage-1', 'down'),
      ],
    );
    expect(rows).toEqual([
      expect.objectContaining({ nodeId: 'storage-1', zone: 'zone-a', member: true, health: 'up', phi: 0.4, capacityBytes: 100 * GiB, freeBytes: 25 * GiB, usedFraction: 0.75, chunkCount: 7 }),
      // Down: phi is infinite, which JSON cannot carry; no disk figures in its last heartbeat.
      expect.objectContaining({ nodeId: 'storage-2', zone: 'zone-b', draining: true, health: 'down', phi: null, capacityBytes: null, usedFraction: null }),
    ]);
  });

  it('lists a member never heard as unknown, and a storage instance heard but not in the ring as not a member', () => {
    const rows = nodeRows([member('storage-1', 'zone-a', { capacityBytes: 10 * GiB })], [watched('storage', 'storage-9', 'up')]);
    expect(rows.map((r) => [r.nodeId, r.member, r.health, r.zone, r.capacityBytes])).toEqual([
      ['storage-1', true, 'unknown', 'zone-a', 10 * GiB],
      ['storage-9', false, 'up', null, null],
    ]);
  });

  it('still lists the storage instances heard when membership is unavailable, in numeric order', () => {
    const rows = nodeRows(null, [watched('storage', 'storage-10', 'up'), watched('storage', 'storage-2', 'suspected')]);
    expect(rows.map((r) => [r.nodeId, r.health])).toEqual([
      ['storage-2', 'suspected'],
      ['storage-10', 'up'],
    ]);
  });
});

describe('instanceRows and regionSummaries', () => {
  it('carries each instance’s load, with null where it has sent no heartbeat', () => {
    const [heard, silent] = instanceRows([watched('scheduler', 'scheduler-1', 'up'), watched('metadata', 'metadata-1', 'suspected', null)]);
    expect(heard).toMatchObject({ service: 'scheduler', uptimeSeconds: 42, rssBytes: 100 * 1024 * 1024, eventLoopLagMs: 2, inFlightRequests: 1, version: '0.1.0' });
    expect(silent).toMatchObject({ service: 'metadata', status: 'suspected', uptimeSeconds: null, rssBytes: null, eventLoopLagMs: null });
  });

  const unseen = { monitored: false, replicationLagMs: null, pendingEvents: null, linkUp: null, down: null, reportedDownBy: null };

  it('lists the local region first, even with nothing heard, then others heard with their replication lag', () => {
    expect(regionSummaries('region-1', [], null)).toEqual([{ region: 'region-1', local: true, instances: { up: 0, suspected: 0, down: 0 }, ...unseen }]);
    const summaries = regionSummaries(
      'region-1',
      [watched('storage', 'a', 'up'), watched('storage', 'b', 'down'), watched('access', 'c', 'up', heartbeat('access', 'c'), 'region-2')],
      [{ region: 'region-2', lagMs: 1500, pendingEvents: 3, linkUp: true }],
    );
    expect(summaries).toEqual([
      { region: 'region-1', local: true, instances: { up: 1, suspected: 0, down: 1 }, ...unseen, monitored: true },
      { region: 'region-2', local: false, instances: { up: 1, suspected: 0, down: 0 }, ...unseen, monitored: true, replicationLagMs: 1500, pendingEvents: 3, linkUp: true },
    ]);
  });

  it('lists every region this one replicates from or votes with, with its lag and whether a majority finds it down', () => {
    const control: ControlFigures = {
      instance: 'sync-1',
      leader: true,
      leaseSeconds: 1.5,
      failovers: 1,
      regions: [
        { region: 'region-1', down: false, reportedDownBy: [] },
        { region: 'region-2', down: true, reportedDownBy: ['region-1', 'region-3'] },
        { region: 'region-3', down: false, reportedDownBy: null },
      ],
      group: null,
      groupError: null,
    };
    const summaries = regionSummaries(
      'region-1',
      [watched('storage', 'a', 'up')],
      [
        { region: 'region-3', lagMs: 120, pendingEvents: 0, linkUp: true },
        { region: 'region-2', lagMs: 9000, pendingEvents: 41, linkUp: false },
      ],
      control,
    );
    expect(summaries.map((r) => [r.region, r.local, r.monitored, r.replicationLagMs, r.linkUp, r.down, r.reportedDownBy])).toEqual([
      ['region-1', true, true, null, null, false, []],
      ['region-2', false, false, 9000, false, true, ['region-1', 'region-3']],
      ['region-3', false, false, 120, true, false, null],
    ]);
  });
});

describe('historyPoint', () => {
  it('keys traffic by service (p99 in ms), job bytes per second by kind, and the worst event-loop lag per service of the live instances', () => {
    const point = historyPoint(
      1_000,
      [
        { service: 'access', requestsPerSecond: 120, errorRatio: 0, p99Seconds: 0.045 },
        { service: 'metadata', requestsPerSecond: 0, errorRatio: null, p99Seconds: null },
      ],
      [job('scrub', 'running', 3_000), job('scrub', 'paced', 1_000), job('repair', 'running', 500), job('gc', 'running', 4, 'items'), job('rebalance', 'done', 9_000), job('repair', 'surveying', null)],
      [
        watched('storage', 's1', 'up', heartbeat('storage', 's1', undefined, 3)),
        watched('storage', 's2', 'up', heartbeat('storage', 's2', undefined, 8)),
        watched('storage', 's3', 'down', heartbeat('storage', 's3', undefined, 99)),
      ],
    );
    expect(point).toEqual<HistoryPoint>({
      atMs: 1_000,
      requestsPerSecond: { access: 120, metadata: 0 },
      p99Ms: { access: 45 },
      jobBytesPerSecond: { scrub: 4_000, repair: 500 },
      eventLoopLagMs: { storage: 8 },
    });
  });

  it('is empty without traffic figures or jobs', () => {
    expect(historyPoint(5, null, null, [])).toEqual({ atMs: 5, requestsPerSecond: {}, p99Ms: {}, jobBytesPerSecond: {}, eventLoopLagMs: {} });
  });
});

describe('DashboardHistory', () => {
  const point = (atMs: number) => historyPoint(atMs, null, null, []);

  it('keeps at most one point per interval', () => {
    const history = new DashboardHistory(1_000, 10);
    expect(history.add(point(0))).toBe(true);
    expect(history.due(999)).toBe(false);
    expect(history.add(point(999))).toBe(false);
    expect(history.add(point(1_000))).toBe(true);
    expect(history.since().map((p) => p.atMs)).toEqual([0, 1_000]);
  });

  it('drops the oldest past its limit and hands out only the points newer than asked', () => {
    const history = new DashboardHistory(1, 3);
    for (const at of [1, 2, 3, 4, 5]) history.add(point(at));
    expect(history.since().map((p) => p.atMs)).toEqual([3, 4, 5]);
    expect(history.since(4).map((p) => p.atMs)).toEqual([5]);
    expect(history.since(5)).toEqual([]);
  });
});

function report(extra: Partial<DrillReport> = {}): DrillReport {
  return {
    id: 'drill-1',
    region: 'region-1',
    bucket: 'cairn-drill',
    method: 'cut-links',
    startedAt: '2026-12-02T10:00:00.000Z',
    failedAt: '2026-12-02T10:00:05.000Z',
    promotedAt: '2026-12-02T10:00:10.000Z',
    healedAt: '2026-12-02T10:00:20.000Z',
    finishedAt: '2026-12-02T10:00:30.000Z',
    oldHome: 'region-1',
    newHome: 'region-2',
    epoch: 2,
    rtoSeconds: 6.2,
    failoverSeconds: 5.1,
    rpoObjects: 1,
    rpoSeconds: 0.4,
    acknowledgedByOldHomeAfterFailure: 3,
    writes: { attempted: 400, acknowledged: 380, refused: 20 },
    splitBrain: false,
    converged: true,
    convergedSeconds: 2.5,
    lostAcknowledged: 0,
    ok: true,
    problems: [],
    ...extra,
  };
}

describe('drill rows', () => {
  it('shows a drill’s result, the region taken out, the new home, failover, RTO and RPO, split brain and losses', () => {
    expect(drillRow(report())).toEqual({
      id: 'drill-1',
      result: 'PASS',
      region: 'region-1',
      trigger: 'cli',
      bucket: 'cairn-drill',
      oldHome: 'region-1',
      newHome: 'region-2',
      epoch: 2,
      failoverSeconds: 5.1,
      rtoSeconds: 6.2,
      rpoObjects: 1,
      rpoSeconds: 0.4,
      acknowledgedByOldHomeAfterFailure: 3,
      splitBrain: false,
      converged: true,
      convergedSeconds: 2.5,
      lostAcknowledged: 0,
      writesAcknowledged: 380,
      startedAt: '2026-12-02T10:00:00.000Z',
      finishedAt: '2026-12-02T10:00:30.000Z',
      problems: [],
    });
  });

  it('says which drills the scheduler started (reports from before the field count as the CLI’s)', () => {
    expect(drillRow(report({ trigger: 'schedule' })).trigger).toBe('schedule');
    expect(drillRow(report({ trigger: 'cli' })).trigger).toBe('cli');
    expect(drillRow(report()).trigger).toBe('cli');
  });

  it('fails a drill the report fails, and one with a split brain or a lost write whatever its ok says', () => {
    expect(drillRow(report({ ok: false, newHome: null, rtoSeconds: null, problems: ['no new home within 30 s'] }))).toMatchObject({ result: 'FAIL', newHome: null, rtoSeconds: null, problems: ['no new home within 30 s'] });
    expect(drillRow(report({ splitBrain: true })).result).toBe('FAIL');
    expect(drillRow(report({ lostAcknowledged: 2 })).result).toBe('FAIL');
  });

  it('reads a report with missing or odd fields without throwing (reports are stored as the CLI sent them)', () => {
    const odd = { ...report(), rtoSeconds: 'soon', writes: undefined, problems: [42, 'late'], lostAcknowledged: undefined } as unknown as DrillReport;
    expect(drillRow(odd)).toMatchObject({ result: 'FAIL', rtoSeconds: null, writesAcknowledged: null, problems: ['late'], lostAcknowledged: null });
  });

  it('keeps the newest first, at most as many as shown', () => {
    const reports = [3, 2, 1].map((n) => report({ id: `drill-${n}` }));
    expect(drillRows(reports, 2).map((r) => r.id)).toEqual(['drill-3', 'drill-2']);
    expect(drillRows([])).toEqual([]);
  });
});

describe('controlPanel', () => {
  const base: ControlFigures = {
    instance: 'sync-1',
    leader: false,
    leaseSeconds: 1.8,
    failovers: 0,
    regions: [
      { region: 'region-1', down: false, reportedDownBy: null },
      { region: 'region-2', down: true, reportedDownBy: null },
      { region: 'region-3', down: false, reportedDownBy: null },
    ],
    group: null,
    groupError: null,
  };

  it('shows regions down by majority and the lease from the metrics alone, and says why bucket homes are missing', () => {
    const panel = controlPanel({ ...base, groupError: 'GET /control on sync-1 answered 401' });
    expect(panel).toMatchObject({ federated: true, leading: false, leaseSeconds: 1.8, regionsDown: ['region-2'], buckets: null, groupLeader: null, term: null });
    expect(panel.bucketsNote).toContain('answered 401');
  });

  it('lists every active-passive bucket’s home and epoch from GET /control', () => {
    const panel = controlPanel({
      ...base,
      group: {
        fetchedAt: '2026-12-02T10:00:00.000Z',
        role: 'follower',
        leader: 'region-3',
        term: 4,
        voters: ['region-1', 'region-2', 'region-3'],
        buckets: [{ bucket: 'photos', home: 'region-3', epoch: 2, state: 'serving', switchingTo: null, since: '2026-12-02T09:59:00.000Z', reason: 'failover' }],
      },
    });
    expect(panel).toMatchObject({ groupLeader: 'region-3', term: 4, role: 'follower', bucketsNote: null, bucketsAt: '2026-12-02T10:00:00.000Z' });
    expect(panel.buckets).toEqual([{ bucket: 'photos', home: 'region-3', epoch: 2, state: 'serving', switchingTo: null, reason: 'failover', since: '2026-12-02T09:59:00.000Z' }]);
  });

  it('shows a region alone as needing no group and no lease', () => {
    const panel = controlPanel({ ...base, regions: [{ region: 'region-1', down: false, reportedDownBy: null }], leaseSeconds: 1e6 });
    expect(panel).toMatchObject({ federated: false, leaseSeconds: null, regionsDown: [] });
  });
});
