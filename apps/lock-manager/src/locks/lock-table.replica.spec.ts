import type { Entry } from '@cairn/consensus';
import type { LockCommand } from '../domain/lock.commands';
import { encodeLockCommand, LockTableReplica } from './lock-table.replica';

let index = 0;
const entry = (command: LockCommand): Entry => ({ kind: 'normal', term: 1, index: ++index, data: encodeLockCommand(command) });
const acquire = (requestId: string, owner: string, nowMs: number, waitMs = 0): LockCommand => ({
  type: 'AcquireLock',
  requestId,
  resource: 'r',
  owner,
  mode: 'exclusive',
  ttlMs: 1_000,
  waitMs,
  nowMs,
});

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
    replica.apply(entry({ type: 'ReleaseLock', resource: 'r', owner: 'a', fencingToken: 1, nowMs: 2 }));
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
    copy.restore({ metadata: { index: 2, term: 1, confState: { voters: ['n1'] } }, data: replica.snapshotData() });
    expect(copy.state).toEqual(replica.state);
    expect(() => copy.restore({ metadata: { index: 2, term: 1, confState: { voters: ['n1'] } }, data: JSON.stringify({ v: 99, state: {} }) })).toThrow(/unknown version 99/);
  });
});
