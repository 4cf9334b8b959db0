import type { JobsReplyWire, ProgressWire, ScrubNodeWire, SweepReportWire } from './admin-api.types';
import { alertsOf, activeAlerts, nodesWithHealth, summarizeServices } from './cluster-views';
import { formatProgressLine, listJobs, sweepJob, textBar, watchStep } from './jobs';

const MiB = 1024 * 1024;

function progress(over: Partial<ProgressWire> = {}): ProgressWire {
  return { doneItems: 0, totalItems: 0, doneBytes: 0, totalBytes: 0, ratePerSecond: null, rateUnit: 'items', etaSeconds: 0, fractionDone: 1, ...over };
}

function sweep(over: Partial<SweepReportWire> = {}): SweepReportWire {
  return {
    id: '7',
    trigger: 'ring epoch 4',
    instance: 'scheduler-1',
    state: 'working',
    ringEpoch: 4,
    startedAt: '2026-01-01T00:00:00.000Z',
    survey: { shardsDone: 16, shardsTotal: 16, chunksSeen: 64, lostChunks: 0 },
    work: {
      repair: progress({ doneItems: 1, totalItems: 2, doneBytes: 1 * MiB, totalBytes: 2 * MiB, ratePerSecond: 1 * MiB, rateUnit: 'bytes', etaSeconds: 1, fractionDone: 0.5 }),
      rebalance: progress({ doneItems: 2, totalItems: 8, doneBytes: 2 * MiB, totalBytes: 8 * MiB, ratePerSecond: 2 * MiB, rateUnit: 'bytes', etaSeconds: 3, fractionDone: 0.25 }),
      gc: progress(),
    },
    failures: 0,
    ...over,
  };
}

function scrub(over: Partial<ScrubNodeWire> = {}): ScrubNodeWire {
  return {
    nodeId: 'storage-1',
    urgent: true,
    corruptFoundTotal: 0,
    pass: { startedAt: 'T1', verifiedChunks: 5, corruptFound: 0 },
    previousPass: null,
    paceBytesPerSecond: 8 * MiB,
    progress: progress({ doneBytes: 5 * MiB, totalBytes: 10 * MiB, rateUnit: 'bytes', ratePerSecond: 5 * MiB, etaSeconds: 1, fractionDone: 0.5 }),
    coverage: { windowDays: 30, oldestVerifiedAt: null, oldestVerifiedAgeSeconds: null },
    ...over,
  };
}

const reply = (over: Partial<JobsReplyWire> = {}): JobsReplyWire => ({ sweep: { running: null, last: null, lastComplete: null }, scrub: [], repairQueue: { waiting: 0 }, ...over });

describe('a sweep as one job', () => {
  it('adds up its repair, rebalance and gc work by bytes, rates summed and the ETA of the slowest', () => {
    const job = sweepJob(sweep());
    expect(job).toMatchObject({ id: '7', kind: 'sweep', state: 'working', doneBytes: 3 * MiB, totalBytes: 10 * MiB, ratePerSecond: 3 * MiB, rateUnit: 'bytes', etaSeconds: 3, finished: false });
    expect(job.fractionDone).toBeCloseTo(0.3);
    expect(job.detail).toContain('repair 1/2, rebalance 2/8');
    expect(formatProgressLine(job)).toBe('sweep 7 working 30.0%  3.0 MiB / 10.0 MiB  rate 3.0 MiB/s  ETA 3s  repair 1/2, rebalance 2/8 (ring epoch 4)');
  });

  it('while surveying, the fraction is of shards surveyed and there is no ETA yet', () => {
    const job = sweepJob(sweep({ state: 'surveying', survey: { shardsDone: 4, shardsTotal: 16, chunksSeen: 10, lostChunks: 0 }, work: { repair: progress(), rebalance: progress(), gc: progress() } }));
    expect(job.fractionDone).toBe(0.25);
    expect(job.etaSeconds).toBeNull();
    expect(job.detail).toMatch(/^surveying 4\/16 shards/);
  });

  it('a failed sweep is finished and failed, with its error', () => {
    expect(sweepJob(sweep({ state: 'failed', error: 'lease lost' }))).toMatchObject({ finished: true, failed: true, error: 'lease lost' });
    expect(sweepJob(sweep({ state: 'done' }))).toMatchObject({ finished: true, failed: false, fractionDone: 1, etaSeconds: 0 });
  });
});

describe('listing and watching jobs', () => {
  it('lists each sweep once (running, last, last complete) and every node scrub', () => {
    const done = sweep({ id: '6', state: 'done' });
    const jobs = listJobs(reply({ sweep: { running: sweep(), last: done, lastComplete: done }, scrub: [scrub()] }));
    expect(jobs.map((j) => j.id)).toEqual(['7', '6', 'scrub:storage-1']);
  });

  it('a sweep not started yet is waiting (behind a running one), then found, then done', () => {
    expect(watchStep(reply({ sweep: { running: sweep(), last: null, lastComplete: null } }), '8', {})).toEqual({ kind: 'not-found', sweepRunning: true, memory: {} });
    expect(watchStep(reply({ sweep: { running: sweep({ id: '8' }), last: null, lastComplete: null } }), '8', {})).toMatchObject({ kind: 'found', job: { id: '8', finished: false } });
    expect(watchStep(reply({ sweep: { running: null, last: sweep({ id: '8', state: 'done' }), lastComplete: null } }), '8', {})).toMatchObject({ kind: 'found', job: { finished: true } });
  });

  it('a scrub watch follows the pass that was current when it began, and ends when that pass is the previous one', () => {
    const first = watchStep(reply({ scrub: [scrub()] }), 'scrub:storage-1', {});
    expect(first).toMatchObject({ kind: 'found', memory: { scrubPassStartedAt: 'T1' }, job: { finished: false, fractionDone: 0.5 } });
    const later = reply({ scrub: [scrub({ pass: { startedAt: 'T2', verifiedChunks: 0, corruptFound: 0 }, previousPass: { startedAt: 'T1', finishedAt: 'T2', verifiedBytes: 10 * MiB, verifiedChunks: 10, corruptFound: 1 } })] });
    expect(watchStep(later, 'scrub:storage-1', first.memory)).toMatchObject({ kind: 'found', job: { state: 'done', finished: true, fractionDone: 1, doneItems: 10 } });
    expect(watchStep(later, 'scrub:storage-9', {})).toMatchObject({ kind: 'not-found' });
  });

  it('draws a text bar', () => {
    expect(textBar(0.5, 10)).toBe('[#####.....]');
  });
});

describe('cluster views', () => {
  it('joins storage nodes with the failure detector verdict of the instance of the same name', () => {
    const node = { nodeId: 'storage-1', zone: 'z', host: 'h', address: 'http://h:1', weight: 1, capacityBytes: 0, draining: false };
    const rows = nodesWithHealth(
      [node, { ...node, nodeId: 'storage-2' }, { ...node, nodeId: 'storage-3' }],
      [
        { region: 'r', service: 'storage', instance: 'storage-1', status: 'down', phi: 9, lastHeartbeatAt: 'T', heartbeat: { extra: { freeBytes: 100 } } },
        { region: 'r', service: 'storage', instance: 'storage-2', status: 'suspected', phi: 3, lastHeartbeatAt: 'T' },
      ],
    );
    expect(rows.map((r) => [r.nodeId, r.state, r.freeBytes])).toEqual([
      ['storage-1', 'down', 100],
      ['storage-2', 'suspected', null],
      ['storage-3', 'unknown', null],
    ]);
    expect(nodesWithHealth([node], null)[0]!.state).toBe('unknown');
  });

  it('counts instances by service and verdict', () => {
    const i = (service: string, instance: string, status: string) => ({ region: 'r', service, instance, status, phi: 0, lastHeartbeatAt: null });
    expect(summarizeServices([i('storage', 's1', 'up'), i('storage', 's2', 'down'), i('access', 'a', 'up')])).toEqual([
      { region: 'r', service: 'access', up: 1, suspected: 0, down: 0, notUp: [] },
      { region: 'r', service: 'storage', up: 1, suspected: 0, down: 1, notUp: ['s2 (down)'] },
    ]);
  });

  it('reads alerts loosely and keeps the firing and pending ones', () => {
    expect(alertsOf({ nope: 1 })).toBeNull();
    const alerts = alertsOf({ alerts: [{ rule: 'node-down', state: 'firing', severity: 'critical', startsAt: 'T', summary: 'storage-2 down' }, { name: 'disk', state: 'resolved' }] })!;
    expect(activeAlerts(alerts)).toEqual([{ name: 'node-down', severity: 'critical', state: 'firing', since: 'T', summary: 'storage-2 down' }]);
    expect(alertsOf([])).toEqual([]);
    // As monitoring's GET /alerts answers.
    const listed = alertsOf({ leader: true, alerts: [{ id: 'a', rule: 'node-down', severity: 'critical', state: 'pending', labels: { node: 'storage-2' }, summary: 's', activeSince: 'T0', firingSince: null, resolvedAt: null }] })!;
    expect(activeAlerts(listed)).toEqual([{ name: 'node-down', severity: 'critical', state: 'pending', since: 'T0', summary: 's' }]);
  });
});
