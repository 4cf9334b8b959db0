import { lifecycleLine, plannedLines, type LifecycleReportWire } from './lifecycle-views';

const counts = { bucketsDone: 1, bucketsTotal: 2, keysScanned: 40, versionsScanned: 55, uploadsScanned: 3, expired: 5, noncurrentDeleted: 2, deleteMarkersRemoved: 1, uploadsAborted: 1, transitioned: 0, transitionsUnavailable: 0, skippedChanged: 0, failures: 0 };
const report: LifecycleReportWire = { id: 'lifecycle-1', trigger: 'admin', now: '2027-01-01T00:00:00.000Z', dryRun: false, state: 'done', startedAt: '2026-12-02T17:00:00.000Z', counts, resumes: 0, failureSample: [] };

describe('lifecycle views', () => {
  it('says what a pass did in one line', () => {
    expect(lifecycleLine(report)).toBe(
      'lifecycle lifecycle-1 done as of 2027-01-01T00:00:00.000Z — 1/2 buckets, 40 keys, 3 uploads: did 5 expire, 2 remove noncurrent, 1 remove delete markers, 1 abort uploads, 0 transition',
    );
  });

  it('says what a dry run would do, action by action, and what else happened', () => {
    const dry = { ...report, dryRun: true, bucket: 'logs', counts: { ...counts, transitionsUnavailable: 2, skippedChanged: 1 }, resumes: 1, planned: [{ kind: 'expire-current', bucket: 'logs', key: 'a', versionId: 'null', ruleId: 'tmp' }], plannedTruncated: true };
    expect(lifecycleLine(dry)).toContain('bucket logs, 40 keys, 3 uploads: would 5 expire');
    expect(lifecycleLine(dry)).toContain('; 2 transitions due but unavailable, 1 skipped (changed since read), resumed 1×');
    expect(plannedLines(dry)).toEqual(['  expire-current       logs/a  null  (rule tmp)', '  … (the first 1000 listed; the counts above cover all)']);
  });
});
