import type { Entry } from '@cairn/consensus';
import type { LockCommand } from '../domain/lock.commands';
import { lockTableStateOf, type LockTable } from '../domain/lock-table.state-machine';
import { leaseSecretHash, newLeaseSecret } from './lease-secret';
import { encodeLockCommand, LockTableReplica } from './lock-table.replica';

let index = 0;
const entry = (command: LockCommand): Entry => ({ kind: 'normal', term: 1, index: ++index, data: encodeLockCommand(command) });
/** A log entry as a v1 lock-manager wrote it: no lease secrets. */
const v1Entry = (command: object): Entry => ({ kind: 'normal', term: 1, index: ++index, data: JSON.stringify({ v: 1, command }) });
const secrets: Record<string, string> = { a: newLeaseSecret(), b: newLeaseSecret(), c: newLeaseSecret() };
const acquire = (requestId: string, owner: string, nowMs: number, waitMs = 0): LockCommand => ({
  type: 'AcquireLock',
  requestId,
  resource: 'r',
  owner,
  mode: 'exclusive',
  ttlMs: 1_000,
  waitMs,
  secretHash: leaseSecretHash(secrets[owner]),
  nowMs,
});
const meta = { index: 2, term: 1, confState: { voters: ['n1'] } };

describe('LockTableReplica', () => {
  it('skips a new leader’s empty entry and conf changes', () => {
    const replica = new LockTableReplica();
    expect(replica.apply({ kind: 'normal', term: 2, index: 1, data: '' })).toEqual([]);
    expect(replica.apply({ kind: 'conf-change', term: 2, index: 2, change: { type: 'add-voter', nodeId: 'n4' }, voters: ['n1', 'n4'] })).toEqual([]);
    expect(replica.state.resources).toEqual({});
  });

  it('tells a watcher the outcome of its request when it applies later', async () => {
    const replica = new LockTableReplica();
    replica.apply(entry(acquire('q1', 'a', 0)));
    const watch = replica.watch('q2');
    expect(replica.apply(entry(acquire('q2', 'b', 1, 5_000)))).toEqual([expect.objectContaining({ type: 'LockQueued', requestId: 'q2' })]);
    replica.apply(entry({ type: 'ReleaseLock', resource: 'r', owner: 'a', fencingToken: 1, secretHash: leaseSecretHash(secrets['a']), nowMs: 2 }));
    await expect(watch.outcome).resolves.toMatchObject({ type: 'LockGranted', requestId: 'q2', fencingToken: 2 });
  });

  it('tells a watcher about a wait that timed out by committed time', async () => {
    const replica = new LockTableReplica();
    replica.apply(entry(acquire('q1', 'a', 0)));
    const watch = replica.watch('q3');
    replica.apply(entry(acquire('q3', 'c', 0, 100)));
    expect(replica.nextDeadlineMs()).toBe(100);
    replica.apply(entry({ type: 'AdvanceTime', nowMs: 100 }));
    await expect(watch.outcome).resolves.toMatchObject({ type: 'LockRefused', code: 'LOCK_WAIT_TIMEOUT' });
  });

  it('restores from its snapshot to the same state, and refuses an unknown version', () => {
    const replica = new LockTableReplica();
    replica.apply(entry(acquire('q1', 'a', 0)));
    replica.apply(entry(acquire('q2', 'b', 1, 5_000)));
    const copy = new LockTableReplica();
    copy.restore({ metadata: meta, data: replica.snapshotData() });
    expect(lockTableStateOf(copy.state as LockTable)).toEqual(lockTableStateOf(replica.state as LockTable));
    expect(copy.nextDeadlineMs()).toBe(replica.nextDeadlineMs());
    expect(() => copy.restore({ metadata: meta, data: JSON.stringify({ v: 99, state: {} }) })).toThrow(/unknown version 99/);
  });

  it('keeps only hashes of lease secrets: neither a log entry nor a snapshot holds a secret', () => {
    const replica = new LockTableReplica();
    const entries = [entry(acquire('q1', 'a', 0)), entry(acquire('q2', 'b', 1, 5_000))];
    for (const e of entries) replica.apply(e);
    const stored = [...entries.map((e) => (e.kind === 'normal' ? e.data : '')), replica.snapshotData()].join('\n');
    for (const secret of [secrets['a'], secrets['b']]) expect(stored).not.toContain(secret);
    expect(stored).toContain(leaseSecretHash(secrets['a']));
  });

  it('replays a v1 log as v1 applied it: releases by owner and token, grants without a secret', () => {
    const replica = new LockTableReplica();
    replica.apply(v1Entry({ type: 'AcquireLock', requestId: 'q1', resource: 'r', owner: 'a', mode: 'exclusive', ttlMs: 1_000, waitMs: 0, nowMs: 0 }));
    replica.apply(v1Entry({ type: 'AcquireLock', requestId: 'q2', resource: 'r', owner: 'b', mode: 'exclusive', ttlMs: 1_000, waitMs: 5_000, nowMs: 1 }));
    expect(replica.apply(v1Entry({ type: 'ReleaseLock', resource: 'r', owner: 'a', fencingToken: 1, nowMs: 2 }))).toEqual([
      expect.objectContaining({ type: 'LockReleased', owner: 'a' }),
      expect.objectContaining({ type: 'LockGranted', owner: 'b', fencingToken: 2 }),
    ]);
    expect(replica.apply(v1Entry({ type: 'AdvanceTime', nowMs: 3 }))).toEqual([]);
    expect(replica.state.resources['r'].holders).toEqual([expect.objectContaining({ owner: 'b', secretHash: null })]);
    // After the upgrade, b's grant (made without a secret) is matched by no secret: it can only expire.
    expect(replica.apply(entry({ type: 'ReleaseLock', resource: 'r', owner: 'b', fencingToken: 2, secretHash: leaseSecretHash(secrets['b']), nowMs: 4 }))).toEqual([
      expect.objectContaining({ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }),
    ]);
  });

  it('loads a v1 snapshot (no secrets): its grants and waiters have none, so they expire by their lease', () => {
    const v1State = {
      nowMs: 10,
      nextSeq: 3,
      resources: {
        r: {
          lastFencingToken: 1,
          holders: [{ requestId: 'q1', owner: 'a', mode: 'exclusive', fencingToken: 1, expiresAtMs: 1_000 }],
          waiters: [{ requestId: 'q2', owner: 'b', mode: 'exclusive', ttlMs: 1_000, deadlineMs: 5_000, seq: 2 }],
        },
      },
    };
    const replica = new LockTableReplica();
    replica.restore({ metadata: meta, data: JSON.stringify({ v: 1, state: v1State }) });
    expect(replica.state.resources['r'].holders).toEqual([{ ...v1State.resources.r.holders[0], secretHash: null }]);
    expect(replica.state.resources['r'].waiters).toEqual([{ ...v1State.resources.r.waiters[0], secretHash: null }]);
    expect(replica.apply(entry({ type: 'RenewLock', resource: 'r', owner: 'a', fencingToken: 1, secretHash: leaseSecretHash(secrets['a']), ttlMs: 1_000, nowMs: 20 }))).toEqual([
      expect.objectContaining({ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }),
    ]);
    expect(replica.apply(entry({ type: 'AdvanceTime', nowMs: 1_000 }))).toEqual([
      expect.objectContaining({ type: 'LockExpired', owner: 'a' }),
      expect.objectContaining({ type: 'LockGranted', owner: 'b', fencingToken: 2 }),
    ]);
    // Written back in the current version.
    expect(JSON.parse(replica.snapshotData())).toMatchObject({ v: 3 });
  });

  /** A log entry as a v2 lock-manager wrote it: the current command shape, tokens per resource. */
  const v2Entry = (command: LockCommand): Entry => ({ kind: 'normal', term: 1, index: ++index, data: JSON.stringify({ v: 2, command }) });
  const on = (resource: string, command: LockCommand): LockCommand => ({ ...command, resource }) as LockCommand;
  const releaseOf = (resource: string, owner: string, fencingToken: number, nowMs: number): LockCommand => ({
    type: 'ReleaseLock',
    resource,
    owner,
    fencingToken,
    secretHash: leaseSecretHash(secrets[owner]),
    nowMs,
  });

  it('snapshots the table-wide counter and only resources in use; a restored table grants above every token it issued', () => {
    const replica = new LockTableReplica();
    for (let i = 0; i < 50; i++) {
      replica.apply(entry(on(`k${i}`, acquire(`q${i}`, 'a', i))));
      replica.apply(entry(releaseOf(`k${i}`, 'a', i + 1, i)));
    }
    replica.apply(entry(on('held', acquire('qh', 'b', 60))));
    const snapshot = JSON.parse(replica.snapshotData());
    expect(snapshot).toEqual({ v: 3, state: expect.objectContaining({ lastFencingToken: 51, fencingTokens: 'table-wide', resources: { held: expect.anything() } }) });
    const copy = new LockTableReplica();
    copy.restore({ metadata: meta, data: replica.snapshotData() });
    expect(copy.snapshotData()).toBe(replica.snapshotData());
    expect(copy.apply(entry(on('k7', acquire('q-again', 'c', 70))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 52 })]);
  });

  it('loads a v2 snapshot (tokens per resource, no counter): the counter starts at their largest, and the first v3 entry forgets the free ones', () => {
    const hash = (owner: string) => leaseSecretHash(secrets[owner]);
    const v2State = {
      nowMs: 10,
      nextSeq: 1,
      resources: {
        busy: { lastFencingToken: 4, holders: [{ requestId: 'q1', owner: 'a', mode: 'exclusive', fencingToken: 4, expiresAtMs: 1_000, secretHash: hash('a') }], waiters: [] },
        'long-free': { lastFencingToken: 9, holders: [], waiters: [] },
        'short-free': { lastFencingToken: 1, holders: [], waiters: [] },
      },
    };
    const replica = new LockTableReplica();
    replica.restore({ metadata: meta, data: JSON.stringify({ v: 2, state: v2State }) });
    expect(replica.state).toMatchObject({ lastFencingToken: 9, fencingTokens: 'per-resource' });
    expect(Object.keys(replica.state.resources)).toHaveLength(3);
    // Written back as v3, still per-resource until a v3 entry applies.
    expect(JSON.parse(replica.snapshotData())).toMatchObject({ v: 3, state: { lastFencingToken: 9, fencingTokens: 'per-resource' } });
    expect(replica.apply(entry(on('short-free', acquire('q2', 'b', 20))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 10 })]);
    expect(Object.keys(replica.state.resources).sort()).toEqual(['busy', 'short-free']);
    expect(replica.apply(entry(releaseOf('busy', 'a', 4, 21)))).toEqual([expect.objectContaining({ type: 'LockReleased' })]);
    expect(replica.apply(entry(on('long-free', acquire('q3', 'c', 22))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 11 })]);
    expect(replica.apply(entry(on('busy', acquire('q4', 'a', 23))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 12 })]);
  });

  it('replays a v2 log with the tokens v2 gave (per resource), then a v3 entry goes on from the largest', () => {
    const replica = new LockTableReplica();
    expect(replica.apply(v2Entry(on('r', acquire('q1', 'a', 0))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 1 })]);
    expect(replica.apply(v2Entry(on('s', acquire('q2', 'b', 0))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 1 })]);
    replica.apply(v2Entry(releaseOf('r', 'a', 1, 1)));
    expect(replica.apply(v2Entry(on('r', acquire('q3', 'c', 2))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 2 })]);
    // A holder that got token 2 from a v2 leader still releases with it after the upgrade.
    expect(replica.apply(entry(releaseOf('r', 'c', 2, 3)))).toEqual([expect.objectContaining({ type: 'LockReleased', fencingToken: 2 })]);
    expect(replica.apply(entry(on('r', acquire('q4', 'a', 4))))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 3 })]);
    expect(Object.keys(replica.state.resources).sort()).toEqual(['r', 's']);
  });

  it('refuses a log entry of an unknown version', () => {
    const replica = new LockTableReplica();
    expect(() => replica.apply({ kind: 'normal', term: 1, index: ++index, data: JSON.stringify({ v: 4, command: acquire('q', 'a', 0) }) })).toThrow(/unknown version 4/);
  });
});
