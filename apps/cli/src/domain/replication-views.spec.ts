import type { ConflictRecord, ReplicationLagView } from './admin-api.types';
import { CliError, ExitCodes } from './exit-codes';
import { conflictsTable, describeReplication, isoArg, lagTables, replicationBody, replicationCell } from './replication-views';

const usageOf = (work: () => unknown): number | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof CliError ? error.exitCode : -1;
  }
};

describe('replication lag table', () => {
  const link = (over: Partial<ReplicationLagView>): ReplicationLagView => ({
    source: 'region-2',
    target: 'region-1',
    connected: true,
    pendingEvents: 0,
    lagSeconds: 0,
    appliedEvents: 1520,
    lastAppliedAt: '2026-12-02T13:00:00.000Z',
    buckets: [],
    link: { state: 'connected', lastError: null, lastErrorAt: null, lastConnectedAt: '2026-12-02T13:00:00.000Z', redials: 0 },
    ...over,
  });

  it('shows each link with its state, backlog, lag and what it applied, why the links down are down, then the buckets behind', () => {
    const text = lagTables([
      link({}),
      link({
        source: 'region-3',
        connected: false,
        pendingEvents: 42,
        lagSeconds: 754,
        appliedEvents: 7,
        lastAppliedAt: null,
        link: { state: 'peer-unreachable', lastError: "region-3's JetStream does not answer across the link: TIMEOUT", lastErrorAt: '2026-12-02T13:00:00.000Z', lastConnectedAt: null, redials: 0 },
        buckets: [
          { bucket: 'photos', pendingEvents: 40, lagSeconds: 754 },
          { bucket: 'quiet', pendingEvents: 0, lagSeconds: 0 },
          { bucket: 'docs', pendingEvents: 2, lagSeconds: 3 },
        ],
      }),
    ]);
    expect(text.split('\n')).toEqual([
      'SOURCE    TARGET    LINK  PENDING  LAG      APPLIED  LAST APPLIED',
      'region-2  region-1  up          0  0s          1520  2026-12-02T13:00:00.000Z',
      'region-3  region-1  DOWN       42  12m 34s        7  never',
      '',
      'Links down',
      'SOURCE    TARGET    STATE             LAST ERROR',
      "region-3  region-1  peer-unreachable  region-3's JetStream does not answer across the link: TIMEOUT",
      '',
      'Buckets behind',
      'SOURCE    TARGET    BUCKET  PENDING  LAG',
      'region-3  region-1  photos       40  12m 34s',
      'region-3  region-1  docs          2  3s',
    ]);
  });

  it('leaves out the bucket table when nothing is behind, and says when there are no links', () => {
    expect(lagTables([link({ buckets: [{ bucket: 'photos', pendingEvents: 0, lagSeconds: 0 }] })])).not.toContain('Buckets behind');
    expect(lagTables([])).toBe('(no replication links: no bucket replicates to or from this region)');
  });
});

describe('conflicts table', () => {
  const conflict: ConflictRecord = {
    conflictId: 'c-7f3a',
    bucket: 'photos',
    key: '2026/cat.jpg',
    winner: { versionId: 'v-b', region: 'region-2', hlc: '0000000002-0000-region-2', kind: 'version' },
    loser: { versionId: 'v-a', region: 'region-1', hlc: '0000000001-0000-region-1', kind: 'version' },
    loserVersionId: 'v-a',
    resolvedAt: '2026-12-02T10:00:00.000Z',
  };

  it('shows when, the key, both sides and where the loser was kept', () => {
    const deleted: ConflictRecord = { ...conflict, conflictId: 'c-9', key: 'gone.txt', loser: { ...conflict.loser, kind: 'delete' }, loserVersionId: null };
    expect(conflictsTable([conflict, deleted]).split('\n')).toEqual([
      'RESOLVED                  KEY           WINNER        LOSER                LOSER KEPT AS        CONFLICT',
      '2026-12-02T10:00:00.000Z  2026/cat.jpg  region-2 v-b  region-1 v-a         v-a                  c-7f3a',
      '2026-12-02T10:00:00.000Z  gone.txt      region-2 v-b  region-1 delete v-a  (nothing: a delete)  c-9',
    ]);
    expect(conflictsTable([])).toBe('(no conflicts)');
  });
});

describe('bucket replication arguments', () => {
  it('needs --home for active-passive only, and a region id there', () => {
    expect(replicationBody('active-passive', 'region-2')).toEqual({ mode: 'active-passive', homeRegion: 'region-2' });
    expect(replicationBody('active-active', undefined)).toEqual({ mode: 'active-active' });
    expect(replicationBody('local', undefined)).toEqual({ mode: 'local' });
    expect(usageOf(() => replicationBody('active-passive', undefined))).toBe(ExitCodes.usage);
    expect(usageOf(() => replicationBody('active-passive', 'Region 2'))).toBe(ExitCodes.usage);
    expect(usageOf(() => replicationBody('local', 'region-2'))).toBe(ExitCodes.usage);
  });

  it('prints the mode the bucket was left in', () => {
    expect(describeReplication({ name: 'photos', owner: 'alice', replication: { mode: 'active-passive', homeRegion: 'region-2' } })).toBe('photos: active-passive (home region-2)');
    expect(describeReplication({ name: 'photos', owner: 'alice', replication: { mode: 'active-active' } })).toBe('photos: active-active');
    expect(replicationCell({ name: 'photos', owner: 'alice', replication: { mode: 'local' } })).toBe('local');
    expect(replicationCell({ name: 'photos', owner: 'alice' })).toBeNull();
  });

  it('takes --since/--until as ISO-8601 instants with their zone, a date alone as midnight UTC', () => {
    expect(isoArg('--since', '2026-12-01')).toBe('2026-12-01T00:00:00.000Z');
    expect(isoArg('--since', '2026-12-01T09:30:00+01:00')).toBe('2026-12-01T08:30:00.000Z');
    for (const bad of ['yesterday', '2026-12-01T09:30:00', '12/01/2026', '2026-13-01']) expect(usageOf(() => isoArg('--since', bad))).toBe(ExitCodes.usage);
  });
});
