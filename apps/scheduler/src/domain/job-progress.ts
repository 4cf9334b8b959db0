/**
 * Progress of one long job as done/total in items and bytes, with a rate and an ETA. The rate is
 * bytes (or items, for a job that moves no bytes) done since the first piece of work finished,
 * over the time since then: paced jobs move bytes at a steady rate once started, and measuring
 * from the first completion leaves out the start-up (first reads, connections) that would
 * otherwise make an early ETA too long.
 */
export interface ProgressCounts {
  readonly doneItems: number;
  readonly totalItems: number;
  readonly doneBytes: number;
  readonly totalBytes: number;
}

export interface ProgressReport extends ProgressCounts {
  readonly startedAtMs: number;
  readonly elapsedMs: number;
  /** Bytes per second (items per second for a job with no bytes); null before anything is done. */
  readonly ratePerSecond: number | null;
  readonly rateUnit: 'bytes' | 'items';
  /** Null while there is no rate to go by. */
  readonly etaSeconds: number | null;
  readonly fractionDone: number;
}

export function emptyCounts(): ProgressCounts {
  return { doneItems: 0, totalItems: 0, doneBytes: 0, totalBytes: 0 };
}

export function addCounts(a: ProgressCounts, b: Partial<ProgressCounts>): ProgressCounts {
  return {
    doneItems: a.doneItems + (b.doneItems ?? 0),
    totalItems: a.totalItems + (b.totalItems ?? 0),
    doneBytes: a.doneBytes + (b.doneBytes ?? 0),
    totalBytes: a.totalBytes + (b.totalBytes ?? 0),
  };
}

/** Where the rate is measured from: the moment the first piece of work finished, and the counts then. */
export interface RateBaseline {
  readonly atMs: number;
  readonly counts: ProgressCounts;
}

export function reportProgress(counts: ProgressCounts, startedAtMs: number, nowMs: number, baseline?: RateBaseline): ProgressReport {
  const elapsedMs = Math.max(0, nowMs - startedAtMs);
  const byBytes = counts.totalBytes > 0;
  const doneOf = (c: ProgressCounts) => (byBytes ? c.doneBytes : c.doneItems);
  const done = doneOf(counts);
  const total = byBytes ? counts.totalBytes : counts.totalItems;
  const sinceBaselineMs = baseline ? nowMs - baseline.atMs : 0;
  const doneSinceBaseline = baseline ? done - doneOf(baseline.counts) : 0;
  const ratePerSecond =
    baseline && sinceBaselineMs > 0 && doneSinceBaseline > 0
      ? doneSinceBaseline / (sinceBaselineMs / 1000)
      : done > 0 && elapsedMs > 0
        ? done / (elapsedMs / 1000)
        : null;
  const remaining = Math.max(0, total - done);
  const etaSeconds = remaining === 0 ? 0 : ratePerSecond ? remaining / ratePerSecond : null;
  return {
    ...counts,
    startedAtMs,
    elapsedMs,
    ratePerSecond,
    rateUnit: byBytes ? 'bytes' : 'items',
    etaSeconds,
    fractionDone: total === 0 ? 1 : Math.min(1, done / total),
  };
}
