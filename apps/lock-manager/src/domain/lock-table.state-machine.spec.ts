import { createHash } from 'node:crypto';
import type { LeaseSecretHash, LockCommand, LockMode } from './lock.commands';
import type { LockEvent } from './lock.events';
import {
  applyLockCommand,
  applyToLockTable,
  DEADLINES_COMPACT_MIN_ENTRIES,
  initialLockTableState,
  inspectLock,
  lockTableOf,
  lockTableStateOf,
  nextDeadlineMs,
  type LockTableState,
} from './lock-table.state-machine';

/** given([commands already applied]).when(command).then([events it produces]) */
function given(history: LockCommand[]) {
  const state = history.reduce<LockTableState>((s, c) => applyLockCommand(s, c).state, initialLockTableState());
  return {
    state,
    when(command: LockCommand) {
      const result = applyLockCommand(state, command);
      return {
        then(expected: Partial<LockEvent>[]) {
          expect(result.events).toHaveLength(expected.length);
          expected.forEach((e, i) => expect(result.events[i]).toMatchObject(e));
          return result.state;
        },
      };
    },
  };
}

/** Each owner's lease secret hash, as the shell would make it (the table only compares them). */
const secretOf = (owner: string): string => createHash('sha256').update(`secret of ${owner}`).digest('hex');

let request = 0;
const acquire = (resource: string, owner: string, mode: LockMode, nowMs: number, ttlMs = 1_000, waitMs = 0, secretHash: LeaseSecretHash = secretOf(owner)): LockCommand => ({
  type: 'AcquireLock',
  requestId: `q${++request}-${owner}`,
  resource,
  owner,
  mode,
  ttlMs,
  waitMs,
  secretHash,
  nowMs,
});
const release = (resource: string, owner: string, fencingToken: number, nowMs: number, secretHash: LeaseSecretHash = secretOf(owner)): LockCommand => ({
  type: 'ReleaseLock',
  resource,
  owner,
  fencingToken,
  secretHash,
  nowMs,
});
const renew = (resource: string, owner: string, fencingToken: number, nowMs: number, ttlMs = 1_000, secretHash: LeaseSecretHash = secretOf(owner)): LockCommand => ({
  type: 'RenewLock',
  resource,
  owner,
  fencingToken,
  secretHash,
  ttlMs,
  nowMs,
});
const tick = (nowMs: number): LockCommand => ({ type: 'AdvanceTime', nowMs });

describe('lock table', () => {
  it('grants a free lock with a fencing token and an expiry from committed time', () => {
    given([]).when(acquire('r', 'a', 'exclusive', 100, 500)).then([{ type: 'LockGranted', owner: 'a', fencingToken: 1, expiresAtMs: 600 }]);
  });

  it('refuses an exclusive lock that is held when the caller will not wait', () => {
    given([acquire('r', 'a', 'exclusive', 0)]).when(acquire('r', 'b', 'exclusive', 1)).then([{ type: 'LockRefused', owner: 'b', code: 'LOCK_CONFLICT' }]);
  });

  it('shares a shared lock, but queues an exclusive request behind it', () => {
    given([acquire('r', 'a', 'shared', 0)]).when(acquire('r', 'b', 'shared', 1)).then([{ type: 'LockGranted', owner: 'b', fencingToken: 2 }]);
    given([acquire('r', 'a', 'shared', 0)]).when(acquire('r', 'b', 'exclusive', 1, 1_000, 500)).then([{ type: 'LockQueued', owner: 'b', position: 1 }]);
  });

  it('serves waiters first in, first out; a later shared request does not overtake a queued exclusive one', () => {
    const h = [acquire('r', 'a', 'shared', 0), acquire('r', 'b', 'exclusive', 1, 1_000, 5_000)];
    given(h).when(acquire('r', 'c', 'shared', 2, 1_000, 5_000)).then([{ type: 'LockQueued', owner: 'c', position: 2 }]);
    const h2 = [...h, acquire('r', 'c', 'shared', 2, 1_000, 5_000)];
    given(h2).when(release('r', 'a', 1, 3)).then([{ type: 'LockReleased', owner: 'a' }, { type: 'LockGranted', owner: 'b', fencingToken: 2 }]);
    given([...h2, release('r', 'a', 1, 3)]).when(release('r', 'b', 2, 4)).then([{ type: 'LockReleased', owner: 'b' }, { type: 'LockGranted', owner: 'c', fencingToken: 3 }]);
  });

  it('grants consecutive shared waiters together', () => {
    const h = [acquire('r', 'a', 'exclusive', 0), acquire('r', 'b', 'shared', 1, 1_000, 5_000), acquire('r', 'c', 'shared', 2, 1_000, 5_000)];
    given(h)
      .when(release('r', 'a', 1, 3))
      .then([{ type: 'LockReleased' }, { type: 'LockGranted', owner: 'b', fencingToken: 2 }, { type: 'LockGranted', owner: 'c', fencingToken: 3 }]);
  });

  it('expires a lease by committed time and hands the lock to the next waiter', () => {
    const h = [acquire('r', 'a', 'exclusive', 0, 1_000), acquire('r', 'b', 'exclusive', 10, 1_000, 5_000)];
    given(h).when(tick(999)).then([]);
    given(h).when(tick(1_000)).then([{ type: 'LockExpired', owner: 'a', fencingToken: 1 }, { type: 'LockGranted', owner: 'b', fencingToken: 2, expiresAtMs: 2_000 }]);
  });

  it('committed time never runs backwards (a new leader with a slow clock)', () => {
    const state = given([acquire('r', 'a', 'exclusive', 5_000, 1_000)]).when(tick(3_000)).then([]);
    expect(state.nowMs).toBe(5_000);
  });

  it('renews a lease it holds, and refuses renewals and releases of a lost lease', () => {
    const h = [acquire('r', 'a', 'exclusive', 0, 1_000)];
    given(h).when(renew('r', 'a', 1, 900, 1_000)).then([{ type: 'LockRenewed', expiresAtMs: 1_900 }]);
    given(h).when(renew('r', 'a', 1, 1_000)).then([{ type: 'LockExpired' }, { type: 'LockRefused', code: 'LOCK_NOT_HELD' }]);
    given(h).when(release('r', 'a', 7, 10)).then([{ type: 'LockRefused', code: 'LOCK_NOT_HELD' }]);
    given(h).when(release('r', 'b', 1, 10)).then([{ type: 'LockRefused', code: 'LOCK_NOT_HELD' }]);
  });

  it('refuses a renew or release without the lease’s own secret (LOCK_SECRET_MISMATCH), and the lease stays held', () => {
    const h = [acquire('r', 'victim', 'exclusive', 0, 1_000), acquire('r', 'next', 'exclusive', 1, 1_000, 5_000)];
    let state = given(h).when(release('r', 'victim', 1, 10, secretOf('attacker'))).then([{ type: 'LockRefused', owner: 'victim', code: 'LOCK_SECRET_MISMATCH' }]);
    expect(inspectLock(state, 'r').holders).toEqual([expect.objectContaining({ owner: 'victim', fencingToken: 1, expiresAtMs: 1_000 })]);
    state = given(h).when(renew('r', 'victim', 1, 10, 60_000, secretOf('attacker'))).then([{ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }]);
    expect(inspectLock(state, 'r').holders).toEqual([expect.objectContaining({ owner: 'victim', expiresAtMs: 1_000 })]);
    given(h).when(release('r', 'victim', 1, 10, null)).then([{ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }]);
    // The holder's own secret works.
    given(h).when(renew('r', 'victim', 1, 10, 1_000)).then([{ type: 'LockRenewed', expiresAtMs: 1_010 }]);
    given(h).when(release('r', 'victim', 1, 10)).then([{ type: 'LockReleased' }, { type: 'LockGranted', owner: 'next', fencingToken: 2 }]);
  });

  it('a waiter’s secret becomes its grant’s', () => {
    const h = [acquire('r', 'a', 'exclusive', 0, 1_000), acquire('r', 'b', 'exclusive', 1, 1_000, 5_000), release('r', 'a', 1, 2)];
    given(h).when(release('r', 'b', 2, 3, secretOf('a'))).then([{ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }]);
    given(h).when(release('r', 'b', 2, 3)).then([{ type: 'LockReleased', owner: 'b', fencingToken: 2 }]);
  });

  it('refuses a retried acquire with another secret, keeping the first attempt’s grant or queue place', () => {
    const first = acquire('r', 'a', 'exclusive', 0, 10_000) as Extract<LockCommand, { type: 'AcquireLock' }>;
    given([first]).when({ ...first, secretHash: secretOf('attacker'), nowMs: 5 }).then([{ type: 'LockRefused', requestId: first.requestId, code: 'LOCK_SECRET_MISMATCH' }]);
    const queued = acquire('r', 'b', 'exclusive', 1, 10_000, 5_000) as Extract<LockCommand, { type: 'AcquireLock' }>;
    const state = given([first, queued]).when({ ...queued, secretHash: secretOf('attacker'), nowMs: 2 }).then([{ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }]);
    expect(inspectLock(state, 'r').waiters).toEqual([expect.objectContaining({ owner: 'b', secretHash: secretOf('b') })]);
  });

  it('refuses an acquire whose secret hash is not one', () => {
    given([]).when(acquire('r', 'a', 'exclusive', 0, 1_000, 0, 'plain-secret')).then([{ type: 'LockRefused', code: 'LOCK_INVALID_REQUEST' }]);
  });

  it('applies v1 commands (no secret) as v1 did, and a grant without a secret can then only expire', () => {
    // What a v1 log replays to: grants and releases by owner and token alone.
    const v1 = [acquire('r', 'a', 'exclusive', 0, 1_000, 0, null), release('r', 'a', 1, 1, null), acquire('r', 'b', 'exclusive', 2, 1_000, 0, null)];
    given(v1.slice(0, 1)).when(v1[1]).then([{ type: 'LockReleased', owner: 'a' }]);
    const h = [...v1, acquire('r', 'c', 'exclusive', 3, 1_000, 5_000)];
    given(h).when(renew('r', 'b', 2, 10, 1_000)).then([{ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }]);
    given(h).when(release('r', 'b', 2, 10)).then([{ type: 'LockRefused', code: 'LOCK_SECRET_MISMATCH' }]);
    given(h).when(tick(1_002)).then([{ type: 'LockExpired', owner: 'b' }, { type: 'LockGranted', owner: 'c', fencingToken: 3 }]);
  });

  it('fencing tokens keep increasing after the lock was freed', () => {
    given([acquire('r', 'a', 'exclusive', 0), release('r', 'a', 1, 1)]).when(acquire('r', 'b', 'exclusive', 2)).then([{ type: 'LockGranted', fencingToken: 2 }]);
  });

  it('times out a waiter', () => {
    const h = [acquire('r', 'a', 'exclusive', 0, 10_000), acquire('r', 'b', 'exclusive', 0, 1_000, 300)];
    given(h).when(tick(300)).then([{ type: 'LockRefused', owner: 'b', code: 'LOCK_WAIT_TIMEOUT' }]);
  });

  it('refuses the youngest waiter of a deadlock cycle with LOCK_DEADLOCK', () => {
    // a holds r1, b holds r2; a waits for r2, then b asks for r1: a cycle a -> b -> a.
    const h = [acquire('r1', 'a', 'exclusive', 0, 10_000), acquire('r2', 'b', 'exclusive', 0, 10_000), acquire('r2', 'a', 'exclusive', 1, 10_000, 5_000)];
    given(h)
      .when(acquire('r1', 'b', 'exclusive', 2, 10_000, 5_000))
      .then([{ type: 'LockQueued', owner: 'b' }, { type: 'LockRefused', owner: 'b', resource: 'r1', code: 'LOCK_DEADLOCK' }]);
  });

  it('finds a three-party cycle and keeps the older waiters queued', () => {
    const h = [
      acquire('r1', 'a', 'exclusive', 0, 10_000),
      acquire('r2', 'b', 'exclusive', 0, 10_000),
      acquire('r3', 'c', 'exclusive', 0, 10_000),
      acquire('r2', 'a', 'exclusive', 1, 10_000, 5_000),
      acquire('r3', 'b', 'exclusive', 2, 10_000, 5_000),
    ];
    const state = given(h).when(acquire('r1', 'c', 'exclusive', 3, 10_000, 5_000)).then([{ type: 'LockQueued' }, { type: 'LockRefused', owner: 'c', code: 'LOCK_DEADLOCK' }]);
    expect(inspectLock(state, 'r2').waiters.map((w) => w.owner)).toEqual(['a']);
    expect(inspectLock(state, 'r3').waiters.map((w) => w.owner)).toEqual(['b']);
    expect(inspectLock(state, 'r1').waiters).toEqual([]);
  });

  it('a shared holder blocking an exclusive request can close a cycle', () => {
    // b holds r shared and waits for x (held by a); a then asks for r exclusive.
    given([acquire('r', 'b', 'shared', 0, 10_000), acquire('x', 'a', 'exclusive', 0, 10_000), acquire('x', 'b', 'exclusive', 1, 10_000, 5_000)])
      .when(acquire('r', 'a', 'exclusive', 2, 10_000, 5_000))
      .then([{ type: 'LockQueued', owner: 'a' }, { type: 'LockRefused', owner: 'a', code: 'LOCK_DEADLOCK' }]);
  });

  it('rejects invalid and duplicate requests', () => {
    given([]).when(acquire('r', 'a', 'exclusive', 0, 0)).then([{ type: 'LockRefused', code: 'LOCK_INVALID_REQUEST' }]);
    given([acquire('r', 'a', 'exclusive', 0)]).when(acquire('r', 'a', 'exclusive', 1)).then([{ type: 'LockRefused', code: 'LOCK_ALREADY_HELD' }]);
  });

  it('answers a retried acquire (same request id) with the grant or queue place it already has', () => {
    const first = acquire('r', 'a', 'exclusive', 0, 10_000) as Extract<LockCommand, { type: 'AcquireLock' }>;
    given([first]).when({ ...first, nowMs: 5 }).then([{ type: 'LockGranted', requestId: first.requestId, fencingToken: 1, expiresAtMs: 10_000 }]);
    const queued = acquire('r', 'b', 'exclusive', 1, 10_000, 5_000) as Extract<LockCommand, { type: 'AcquireLock' }>;
    const state = given([first, queued]).when({ ...queued, nowMs: 2 }).then([{ type: 'LockQueued', requestId: queued.requestId, position: 1 }]);
    expect(inspectLock(state, 'r').waiters).toHaveLength(1);
    expect(inspectLock(state, 'r').lastFencingToken).toBe(1);
  });

  it('is deterministic: replaying the same commands gives the same state', () => {
    const commands = [acquire('r', 'a', 'shared', 0), acquire('r', 'b', 'exclusive', 1, 1_000, 2_000), tick(1_500), acquire('s', 'c', 'exclusive', 1_600)];
    const fold = () => commands.reduce<LockTableState>((s, c) => applyLockCommand(s, c).state, initialLockTableState());
    expect(JSON.stringify(fold())).toBe(JSON.stringify(fold()));
  });

  it('a table applied to in place gives the events and state of applying each command to a fresh copy (indexes rebuilt every time)', () => {
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const owners = ['a', 'b', 'c', 'd'];
    const resources = ['r0', 'r1', 'r2'];
    const tokens = new Map<string, number[]>();
    const live = lockTableOf(initialLockTableState());
    let copied = initialLockTableState();
    let nowMs = 0;
    const counts = new Map<string, number>();
    let lastGranted = 0;
    for (let i = 0; i < 3_000; i++) {
      nowMs += next(10) === 0 ? next(2_000) : next(20);
      const resource = resources[next(resources.length)];
      const owner = owners[next(owners.length)];
      const held = tokens.get(`${resource}/${owner}`) ?? [];
      const token = held.length > 0 && next(4) > 0 ? held[held.length - 1] : 1 + next(5);
      const choice = next(10);
      const command =
        choice < 4
          ? acquire(resource, owner, next(3) === 0 ? 'shared' : 'exclusive', nowMs, 1 + next(2_000), next(2) === 0 ? 0 : next(2_500))
          : choice < 6
            ? release(resource, owner, token, nowMs)
            : choice < 8
              ? renew(resource, owner, token, nowMs, 1 + next(2_000))
              : tick(nowMs);
      const expected = applyLockCommand(copied, command);
      const events = applyToLockTable(live, command);
      expect(events).toEqual(expected.events);
      copied = expected.state;
      for (const e of events) {
        counts.set(e.type === 'LockRefused' ? e.code : e.type, (counts.get(e.type === 'LockRefused' ? e.code : e.type) ?? 0) + 1);
        if (e.type === 'LockGranted') tokens.set(`${e.resource}/${e.owner}`, [...(tokens.get(`${e.resource}/${e.owner}`) ?? []), e.fencingToken]);
        if (e.type === 'LockGranted' && !(e.fencingToken > lastGranted)) throw new Error(`token ${e.fencingToken} after ${lastGranted}`);
        if (e.type === 'LockGranted') lastGranted = e.fencingToken;
      }
      // Only resources in use are kept: each has a holder or a waiter.
      for (const [name, r] of Object.entries(live.resources)) if (r.holders.length + r.waiters.length === 0) throw new Error(`${name} kept free`);
    }
    expect(JSON.stringify(lockTableStateOf(live))).toBe(JSON.stringify(copied));
    // The sequence went through every path that changes deadlines or waiters.
    for (const kind of ['LockGranted', 'LockQueued', 'LockReleased', 'LockRenewed', 'LockExpired', 'LOCK_WAIT_TIMEOUT', 'LOCK_DEADLOCK', 'LOCK_CONFLICT']) {
      if (!counts.get(kind)) throw new Error(`no ${kind} in ${JSON.stringify([...counts])}`);
    }
  });

  it('applies a command without walking the whole table (a per-resource table keeps every resource ever locked)', () => {
    const table = lockTableOf(initialLockTableState());
    for (let i = 0; i < 1_000; i++) {
      applyToLockTable(table, acquire(`old-${i}`, 'a', 'exclusive', i, 500_000 - i), true);
      applyToLockTable(table, release(`old-${i}`, 'a', 1, i), true);
    }
    expect(Object.keys(table.resources)).toHaveLength(1_000);
    applyToLockTable(table, acquire('held', 'b', 'exclusive', 1_000, 500_000), true);
    const walked = new Proxy(table.resources, {
      ownKeys: () => {
        throw new Error('walked every resource');
      },
    });
    const watched = { ...table, resources: walked, deadlines: table.deadlines, waiting: table.waiting };
    expect(applyToLockTable(watched, acquire('new', 'c', 'exclusive', 2_000, 1_000, 1_000), true)).toEqual([expect.objectContaining({ type: 'LockGranted' })]);
    expect(applyToLockTable(watched, acquire('held', 'c', 'exclusive', 2_001, 1_000, 1_000), true)).toEqual([expect.objectContaining({ type: 'LockQueued' })]);
    expect(applyToLockTable(watched, renew('new', 'c', 1, 2_002, 5_000), true)).toEqual([expect.objectContaining({ type: 'LockRenewed' })]);
    expect(applyToLockTable(watched, tick(400_000), true)).toEqual([expect.objectContaining({ type: 'LockRefused', code: 'LOCK_WAIT_TIMEOUT' }), expect.objectContaining({ type: 'LockExpired', resource: 'new' })]);
    expect(applyToLockTable(watched, release('held', 'b', 1, 400_001), true)).toEqual([expect.objectContaining({ type: 'LockReleased' })]);
  });

  it('names the next deadline that is still due: one a renewal or release made stale is skipped', () => {
    const table = lockTableOf(initialLockTableState());
    applyToLockTable(table, acquire('r', 'a', 'exclusive', 0, 1_000));
    applyToLockTable(table, acquire('s', 'b', 'exclusive', 0, 5_000));
    expect(nextDeadlineMs(table)).toBe(1_000);
    applyToLockTable(table, renew('r', 'a', 1, 10, 3_000));
    expect(nextDeadlineMs(table)).toBe(3_010);
    applyToLockTable(table, release('r', 'a', 1, 20));
    expect(nextDeadlineMs(table)).toBe(5_000);
    // Table-wide tokens: s's grant came after r's.
    applyToLockTable(table, release('s', 'b', 2, 30));
    expect(nextDeadlineMs(table)).toBeUndefined();
  });
});

describe('lock table: free resources are forgotten, fencing tokens come from one table-wide counter', () => {
  /** Applies `commands` in place to a fresh table (as current commands unless `fromV2Entry`), returning the table and every event. */
  const run = (commands: LockCommand[], fromV2Entry = false) => {
    const table = lockTableOf(initialLockTableState());
    const events = commands.flatMap((c) => applyToLockTable(table, c, fromV2Entry));
    return { table, events };
  };
  const tokensOf = (events: LockEvent[]) => events.flatMap((e) => (e.type === 'LockGranted' ? [e.fencingToken] : []));

  it('forgets a resource once it has no holders and no waiters: after a release, an expiry, a wait timeout or a deadlock refusal', () => {
    const released = run([acquire('r', 'a', 'exclusive', 0), release('r', 'a', 1, 1)]);
    expect(released.table.resources).toEqual({});
    const expired = run([acquire('r', 'a', 'exclusive', 0, 1_000), tick(1_000)]);
    expect(expired.events.map((e) => e.type)).toEqual(['LockGranted', 'LockExpired']);
    expect(expired.table.resources).toEqual({});
    // The waiter on s times out while s's holder stays; when the holder goes too, s goes.
    const timedOut = run([acquire('s', 'a', 'exclusive', 0, 10_000), acquire('s', 'b', 'exclusive', 0, 1_000, 300), tick(300)]);
    expect(timedOut.table.resources['s']).toMatchObject({ holders: [expect.objectContaining({ owner: 'a' })], waiters: [] });
    applyToLockTable(timedOut.table, release('s', 'a', 1, 400));
    expect(timedOut.table.resources).toEqual({});
    expect(timedOut.table.waiting.size).toBe(0);
    // A deadlock: b's wait for r1 is refused. r2's queue (a waits there) stays until it is served.
    const deadlock = run([
      acquire('r1', 'a', 'exclusive', 0, 10_000),
      acquire('r2', 'b', 'exclusive', 0, 10_000),
      acquire('r2', 'a', 'exclusive', 1, 10_000, 5_000),
      acquire('r1', 'b', 'exclusive', 2, 10_000, 5_000),
    ]);
    expect(deadlock.events[deadlock.events.length - 1]).toMatchObject({ type: 'LockRefused', code: 'LOCK_DEADLOCK' });
    expect(Object.keys(deadlock.table.resources).sort()).toEqual(['r1', 'r2']);
    expect([...deadlock.table.waiting]).toEqual(['r2']);
    applyToLockTable(deadlock.table, release('r1', 'a', 1, 3));
    applyToLockTable(deadlock.table, release('r2', 'b', 2, 4));
    expect(Object.keys(deadlock.table.resources)).toEqual(['r2']);
    applyToLockTable(deadlock.table, release('r2', 'a', 3, 5));
    expect(deadlock.table.resources).toEqual({});
    expect(deadlock.table.waiting.size).toBe(0);
    expect(nextDeadlineMs(deadlock.table)).toBeUndefined();
  });

  it('a forgotten resource locked again gets a larger token than it ever had; tokens grow across resources', () => {
    const { table, events } = run([
      acquire('r', 'a', 'exclusive', 0),
      acquire('s', 'b', 'exclusive', 0),
      release('r', 'a', 1, 1),
      acquire('t', 'c', 'shared', 2),
      acquire('t', 'd', 'shared', 2),
      acquire('r', 'e', 'exclusive', 3),
    ]);
    expect(tokensOf(events)).toEqual([1, 2, 3, 4, 5]);
    expect(inspectLock(table, 'r')).toMatchObject({ lastFencingToken: 5, holders: [expect.objectContaining({ owner: 'e', fencingToken: 5 })] });
    applyToLockTable(table, release('r', 'e', 5, 4));
    // Not in the table: it shows the table's last token, which no grant of it exceeded and every later grant will.
    expect(inspectLock(table, 'r')).toMatchObject({ lastFencingToken: 5, holders: [], waiters: [] });
    expect(applyToLockTable(table, acquire('r', 'f', 'exclusive', 5))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 6 })]);
  });

  it('locking and releasing many distinct resources leaves the table and its indexes small', () => {
    const table = lockTableOf(initialLockTableState());
    let lastToken = 0;
    for (let i = 0; i < 20_000; i++) {
      const [granted] = applyToLockTable(table, acquire(`objects/key-${i}`, `owner-${i % 7}`, 'exclusive', i, 60_000));
      if (granted.type !== 'LockGranted') throw new Error(`not granted: ${JSON.stringify(granted)}`);
      expect(granted.fencingToken).toBeGreaterThan(lastToken);
      lastToken = granted.fencingToken;
      applyToLockTable(table, release(`objects/key-${i}`, `owner-${i % 7}`, granted.fencingToken, i));
    }
    expect(table.resources).toEqual({});
    expect(table.waiting.size).toBe(0);
    // Each grant left a stale lease end behind; the index is rebuilt before they pile up.
    expect(table.deadlines.size).toBeLessThanOrEqual(DEADLINES_COMPACT_MIN_ENTRIES);
    expect(nextDeadlineMs(table)).toBeUndefined();
    expect(JSON.stringify(lockTableStateOf(table))).toBe(JSON.stringify({ nowMs: 19_999, nextSeq: 1, lastFencingToken: 20_000, fencingTokens: 'table-wide', resources: {} }));
  });

  it('replays v2 commands as v2 did (a token per resource, every resource kept); the first current command switches to the table-wide counter for good', () => {
    const v2 = [acquire('r', 'a', 'exclusive', 0), acquire('s', 'b', 'exclusive', 0), release('r', 'a', 1, 1), acquire('r', 'c', 'exclusive', 2), release('r', 'c', 2, 3)];
    const { table, events } = run(v2, true);
    expect(tokensOf(events)).toEqual([1, 1, 2]);
    expect(table.fencingTokens).toBe('per-resource');
    expect(inspectLock(table, 'r')).toMatchObject({ lastFencingToken: 2, holders: [] });
    expect(table.lastFencingToken).toBe(2);
    // The first current command: r (free) is dropped, s (held) stays; tokens go on from the largest.
    expect(applyToLockTable(table, acquire('t', 'd', 'exclusive', 4))).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 3 })]);
    expect(table.fencingTokens).toBe('table-wide');
    expect(Object.keys(table.resources).sort()).toEqual(['s', 't']);
    // A v2 command after the switch (an old leader's) is granted from the counter too: never an old token again.
    expect(applyToLockTable(table, acquire('r', 'e', 'exclusive', 5), true)).toEqual([expect.objectContaining({ type: 'LockGranted', fencingToken: 4 })]);
    expect(applyToLockTable(table, release('s', 'b', 1, 6), true)).toEqual([expect.objectContaining({ type: 'LockReleased' })]);
    expect(Object.keys(table.resources).sort()).toEqual(['r', 't']);
  });
});
