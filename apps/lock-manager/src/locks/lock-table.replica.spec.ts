import type { Entry } from '@cairn/consensus';
import type { LockCommand } from '../domain/lock.commands';
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
    expect(copy.state).toEqual(replica.state);
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
    expect(JSON.parse(replica.snapshotData())).toMatchObject({ v: 2 });
  });
});
