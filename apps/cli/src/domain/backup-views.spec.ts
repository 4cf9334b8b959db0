import { drillLines, targetsTable, verifyLine } from './backup-views';
import { restoreLine } from './point-in-time-views';

describe('backup and restore views', () => {
  it('shows a target without its secret, with pace and schedule', () => {
    const text = targetsTable([{ name: 'offsite', kind: 's3', endpoint: 'http://b:9000', bucket: 'backups', prefix: 'r1', bytesPerSecond: 64 * 1024 * 1024, schedule: { everyMs: 3_600_000, keep: 48 }, hasSecret: true }]);
    expect(text).toContain('offsite');
    expect(text).toContain('http://b:9000/backups/r1');
    expect(text).toContain('64.0 MiB/s');
    expect(text).toContain('every 1h 00m, keep 48');
    expect(text).toContain('sealed');
  });

  it('says whether a backup verified, and what is wrong when not', () => {
    const base = { backupId: 'b-1', cutSequence: 42, segmentsChecked: 3, segmentsBad: [], configurationOk: true, chunksNeeded: 40, chunksChecked: 40, chunksMissing: [], chunksCorrupt: [], tookMs: 1200 };
    expect(verifyLine({ ...base, ok: true })).toMatch(/^backup b-1 \(cut #42\) verified: 3 segments, 40 of 40 chunks/);
    expect(verifyLine({ ...base, ok: false, chunksMissing: ['ab'] })).toContain('missing chunk ab');
  });

  it('reports a drill with RPO and RTO', () => {
    const text = drillLines({ backupId: 'b-1', cutSequence: 9, cutAt: '2026-12-02T16:00:00.000Z', rpoSeconds: 300, rtoSeconds: 42, restoredChunkBytes: 1024, restoredEvents: 20, buckets: 2, sourceObjects: 10, objects: 10, etagMismatches: [], etagMismatchCount: 0, sampled: 5, byteMismatches: [], ok: true });
    expect(text).toContain('PASSED');
    expect(text).toContain('RPO 5m 00s');
    expect(text).toContain('RTO 42s');
  });

  it('one line per restore job', () => {
    const line = restoreLine({ id: 'r1', bucket: 'b', at: '2026-12-02T16:00:00.000Z', prefix: 'docs/', to: 'c', state: 'done', progress: { doneItems: 12, totalItems: 12, etaSeconds: 0 }, puts: 11, deletes: 1, bytesRestored: 2048, bytesCopied: 0, failures: 0, failureSample: [] });
    expect(line).toBe('restore r1 done: b/docs/* → c as of 2026-12-02T16:00:00.000Z — 12/12 keys, 11 put back (2048 bytes, 0 copied), 1 deleted, 0 failed');
    const fromBackup = restoreLine({ id: 'r2', bucket: 'b', at: '2026-11-02T16:00:00.000Z', state: 'done', source: { kind: 'backup', target: 'local', backupId: 'b-1', liveFromSequence: null }, progress: { doneItems: 3, totalItems: 3, etaSeconds: 0 }, puts: 3, deletes: 0, bytesRestored: 4096, bytesCopied: 1024, failures: 0, failureSample: [] });
    expect(fromBackup).toBe('restore r2 done: b as of 2026-11-02T16:00:00.000Z from backup b-1 of local — 3/3 keys, 3 put back (4096 bytes, 1024 copied), 0 deleted, 0 failed');
  });
});
