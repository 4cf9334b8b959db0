import { addCounts, emptyCounts, reportProgress } from './job-progress';

describe('reportProgress', () => {
  it('has no rate or ETA before anything is done, and is complete with nothing to do', () => {
    expect(reportProgress({ ...emptyCounts(), totalItems: 4, totalBytes: 400 }, 0, 1_000)).toMatchObject({ ratePerSecond: null, etaSeconds: null, fractionDone: 0 });
    expect(reportProgress(emptyCounts(), 0, 1_000)).toMatchObject({ etaSeconds: 0, fractionDone: 1 });
  });

  it('estimates the rest at the average byte rate so far', () => {
    const report = reportProgress({ doneItems: 1, totalItems: 4, doneBytes: 100, totalBytes: 400 }, 10_000, 12_000);
    expect(report).toMatchObject({ ratePerSecond: 50, rateUnit: 'bytes', etaSeconds: 6, fractionDone: 0.25 });
  });

  it('goes by items when the job moves no bytes', () => {
    expect(reportProgress({ doneItems: 5, totalItems: 10, doneBytes: 0, totalBytes: 0 }, 0, 5_000)).toMatchObject({ rateUnit: 'items', ratePerSecond: 1, etaSeconds: 5 });
  });

  it('adds counts field by field', () => expect(addCounts(emptyCounts(), { doneItems: 2, totalBytes: 7 })).toEqual({ doneItems: 2, totalItems: 0, doneBytes: 0, totalBytes: 7 }));
});

describe('reportProgress from a baseline', () => {
  it('measures the rate from the first completion, so a slow start does not stretch the ETA', () => {
    // 1 s of start-up, then 100 bytes/s: the first 100 bytes done at 2 s, 200 at 3 s.
    const baseline = { atMs: 2_000, counts: { doneItems: 1, totalItems: 8, doneBytes: 100, totalBytes: 800 } };
    const report = reportProgress({ doneItems: 2, totalItems: 8, doneBytes: 200, totalBytes: 800 }, 0, 3_000, baseline);
    expect(report.ratePerSecond).toBe(100);
    expect(report.etaSeconds).toBe(6);
  });

  it('falls back to the average since the start until there is a second completion', () => {
    const baseline = { atMs: 2_000, counts: { doneItems: 1, totalItems: 8, doneBytes: 100, totalBytes: 800 } };
    expect(reportProgress(baseline.counts, 0, 2_000, baseline).ratePerSecond).toBe(50);
  });
});
