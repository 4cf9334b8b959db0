import type { ProgressReport } from '../domain/job-progress';
import type { ScrubNodeReport } from '../scrub/scrub.queue';
import type { SweepReport } from '../sweep/chunk-sweep';
import { scrubJob, sweepJobs } from './scheduler-jobs-rpc.controller';

const MiB = 1024 * 1024;

function progress(doneBytes: number, totalBytes: number, ratePerSecond: number | null = null, etaSeconds: number | null = null): ProgressReport {
  return { doneItems: 1, totalItems: 4, doneBytes, totalBytes, startedAtMs: 0, elapsedMs: 1_000, ratePerSecond, rateUnit: 'bytes', etaSeconds, fractionDone: totalBytes === 0 ? 1 : doneBytes / totalBytes };
}

function sweep(overrides: Partial<SweepReport> = {}): SweepReport {
  return {
    id: 'sw-1',
    trigger: 'admin',
    instance: 'scheduler-1',
    state: 'working',
    ringEpoch: 3,
    leftOut: [],
    fencingToken: 7,
    startedAt: '2026-12-02T07:00:00.000Z',
    survey: { shardsDone: 16, shardsTotal: 16, chunksSeen: 10, referencedChunks: 8, unreferencedChunks: 2, lostChunks: 0, lostSample: [], undecidedChunks: 0 },
    nodes: {},
    work: { repair: progress(MiB, 4 * MiB, MiB, 3), rebalance: progress(0, 0), gc: progress(0, 0) },
    failures: 0,
    ...overrides,
  };
}

function scrub(overrides: Partial<ScrubNodeReport> = {}): ScrubNodeReport {
  return {
    nodeId: 'storage-1',
    urgent: false,
    corruptFoundTotal: 0,
    pass: { startedAt: '2026-12-02T07:00:00.000Z', cursor: '', verifiedChunks: 0, corruptFound: 0 },
    previousPass: null,
    paceBytesPerSecond: MiB,
    progress: progress(0, 8 * MiB),
    coverage: { coveredFraction: 0.5, coveredBytes: 4 * MiB, oldestVerifiedAtMs: null, windowDays: 14, oldestVerifiedAt: null, oldestVerifiedAgeSeconds: null },
    ...overrides,
  };
}

describe('the jobs summary', () => {
  it('turns a sweep into its repair, rebalance and gc lines with their progress', () => {
    const [repair, rebalance, gc] = sweepJobs(sweep());
    expect(repair).toEqual({
      id: 'sweep:sw-1:repair',
      kind: 'repair',
      title: 'sweep (admin) — repair',
      state: 'running',
      doneItems: 1,
      totalItems: 4,
      doneBytes: MiB,
      totalBytes: 4 * MiB,
      fractionDone: 0.25,
      ratePerSecond: MiB,
      rateUnit: 'bytes',
      etaSeconds: 3,
      startedAt: '2026-12-02T07:00:00.000Z',
      finishedAt: null,
    });
    expect([rebalance.kind, gc.kind]).toEqual(['rebalance', 'gc']);
  });

  it('says what a surveying sweep is at, which nodes it left out and how it failed', () => {
    const [repair] = sweepJobs(sweep({ state: 'surveying', leftOut: ['storage-3'], survey: { ...sweep().survey, shardsDone: 5 } }));
    expect(repair).toMatchObject({ state: 'surveying', detail: 'surveying shard 5/16 · left out: storage-3' });
    const [failed] = sweepJobs(sweep({ state: 'failed', error: 'lease lost', finishedAt: '2026-12-02T07:01:00.000Z' }));
    expect(failed).toMatchObject({ state: 'failed', detail: 'lease lost', finishedAt: '2026-12-02T07:01:00.000Z' });
  });

  it('shows a scrub-now pass as running and the background one as paced, with coverage', () => {
    expect(scrubJob(scrub({ urgent: true, progress: progress(2 * MiB, 8 * MiB, MiB, 6) }))).toMatchObject({
      id: 'scrub:storage-1',
      kind: 'scrub',
      nodeId: 'storage-1',
      state: 'running',
      fractionDone: 0.25,
      etaSeconds: 6,
      detail: 'coverage 50.0% of 14 days',
    });
    expect(scrubJob(scrub({ pass: { ...scrub().pass, verifiedChunks: 3 } })).state).toBe('paced');
  });

  it('shows the last pass as done between passes, at its own rate', () => {
    const job = scrubJob(
      scrub({
        corruptFoundTotal: 2,
        previousPass: { startedAt: '2026-12-02T07:00:00.000Z', finishedAt: '2026-12-02T07:00:08.000Z', verifiedBytes: 8 * MiB, verifiedChunks: 32, corruptFound: 2 },
      }),
    );
    expect(job).toMatchObject({
      state: 'done',
      fractionDone: 1,
      doneBytes: 8 * MiB,
      totalBytes: 8 * MiB,
      ratePerSecond: MiB,
      etaSeconds: 0,
      finishedAt: '2026-12-02T07:00:08.000Z',
      detail: 'coverage 50.0% of 14 days · 2 corrupt found',
    });
  });
});
