import { drillReport, drillSummary, type DrillObservations, type DrillWrite } from './drill-report';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const write = (via: string, key: string, startedSec: number, endedSec: number, ok = true): DrillWrite => ({ via, key, etag: ok ? `"${key}"` : null, startedMs: T0 + startedSec * 1000, endedMs: T0 + endedSec * 1000, ok });

function observations(overrides: Partial<DrillObservations> = {}): DrillObservations {
  return {
    id: 'drill-1',
    region: 'region-1',
    bucket: 'orders',
    oldHome: 'region-1',
    startedMs: T0 - 10_000,
    failedMs: T0,
    promotedMs: T0 + 4_000,
    newHome: 'region-2',
    epoch: 2,
    healedMs: T0 + 10_000,
    finishedMs: T0 + 20_000,
    writes: [
      write('region-1', 'a', -3, -2.9),
      write('region-2', 'b', -2, -1.9),
      write('region-1', 'c', 0.5, 0.6), // the old home, within its lease
      write('region-2', 'd', 1, 1.1, false),
      write('region-2', 'e', 4.2, 4.5), // the first write the new home took
      write('region-3', 'f', 5, 5.2),
    ],
    missingInNewHome: new Set(['c']),
    convergedMs: T0 + 12_000,
    lostAfterHeal: new Set(),
    rtoTargetSeconds: 30,
    ...overrides,
  };
}

describe('a drill report, from what the clients saw', () => {
  it('measures RTO from the failure to the first write the new home acknowledged, and counts what the old home took in its lease apart from RPO', () => {
    const report = drillReport(observations());
    expect(report).toMatchObject({
      rtoSeconds: 4.5,
      failoverSeconds: 4,
      rpoObjects: 0,
      rpoSeconds: 0,
      acknowledgedByOldHomeAfterFailure: 1,
      writes: { attempted: 6, acknowledged: 5, refused: 1 },
      splitBrain: false,
      converged: true,
      convergedSeconds: 2,
      lostAcknowledged: 0,
      ok: true,
      problems: [],
    });
  });

  it('reports acknowledged writes from before the failure that the new home lacks as RPO, in objects and in seconds back', () => {
    const report = drillReport(observations({ missingInNewHome: new Set(['a', 'b', 'c']) }));
    expect(report).toMatchObject({ rpoObjects: 2, rpoSeconds: 2.9, ok: true });
  });

  it('does not call a write that waited on a forwarding region split brain: it counts from when the new home acknowledged it', () => {
    // Sent through region-3 while the old home still held its lease, acknowledged once the new home had it.
    const writes = [...observations().writes, write('region-1', 'in-lease', 1.4, 1.5), write('region-3', 'waited', 1, 4.4)];
    const report = drillReport(observations({ writes }));
    expect(report).toMatchObject({ splitBrain: false, rtoSeconds: 4.4, ok: true });
  });

  it('calls it split brain when the old home acknowledged after the first write acknowledged elsewhere after the failure', () => {
    const writes = [...observations().writes, write('region-1', 'late', 4.3, 4.6)];
    const report = drillReport(observations({ writes }));
    expect(report.splitBrain).toBe(true);
    expect(report.ok).toBe(false);
    expect(report.problems).toContain('two regions acknowledged writes at once');
  });

  it('fails without a new home, over the RTO target, without convergence, or with an acknowledged write lost', () => {
    expect(drillReport(observations({ promotedMs: null, newHome: null, epoch: null, writes: observations().writes.filter((w) => w.via === 'region-1') })).problems).toEqual([
      'no new home was named for orders',
      'no write was acknowledged by a new home',
    ]);
    expect(drillReport(observations({ rtoTargetSeconds: 3 })).problems).toEqual(['RTO 4.5 s is over the 3 s target']);
    expect(drillReport(observations({ convergedMs: null, lostAfterHeal: new Set(['c']) })).problems).toEqual([
      'the regions did not converge after the region came back',
      '1 acknowledged writes are missing after the heal',
    ]);
  });

  it('summarises the report for a person', () => {
    const text = drillSummary(drillReport(observations()));
    expect(text).toContain('region-1 taken out (cut-links)');
    expect(text).toContain('PASS');
    expect(text).toContain('region-2 (epoch 2)');
    expect(text).toContain('4.5 s');
  });
});
