import { CairnError } from '@cairn/protocol';
import { ACQUIRE_ATTEMPT_MAX_MS, LockClient, type LockRpc } from './lock-client';
import { isLeaseSecret, type AcquireLockRequest, type LockGrant } from '@cairn/protocol';

type Handler = (pattern: string, payload: Record<string, unknown>, call: number) => unknown;

/** A scripted lock-manager: records every request and answers with what the handler returns or throws. */
function fakeRpc(handler: Handler): LockRpc & { calls: { pattern: string; payload: Record<string, unknown>; timeoutMs?: number }[] } {
  const calls: { pattern: string; payload: Record<string, unknown>; timeoutMs?: number }[] = [];
  return {
    calls,
    async request<T>(service: string, pattern: string, payload: unknown, options?: { timeoutMs?: number }): Promise<T> {
      expect(service).toBe('lock-manager');
      calls.push({ pattern, payload: payload as Record<string, unknown>, timeoutMs: options?.timeoutMs });
      return handler(pattern, payload as Record<string, unknown>, calls.length) as T;
    },
  };
}

/** The lock-manager echoes the secret the client sent; this fake's placeholder shows the client keeps its own. */
const grant = (fencingToken: number, expiresAtMs = 1_000): LockGrant => ({ resource: 'r', owner: 'me', mode: 'exclusive', fencingToken, expiresAtMs, leaseSecret: 'echo' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LockClient', () => {
  it('re-sends an acquire through NOT_LEADER and timeouts with the same request id', async () => {
    const rpc = fakeRpc((_p, _payload, call) => {
      if (call === 1) throw new CairnError('RAFT_NOT_LEADER', 'no leader yet');
      if (call === 2) throw new CairnError('TIMEOUT', 'replica died');
      return grant(7);
    });
    const client = new LockClient(rpc, { owner: 'me' });
    await expect(client.acquire('r', { ttlMs: 1_000, waitMs: 500 })).resolves.toMatchObject({ fencingToken: 7 });
    const ids = rpc.calls.map((c) => (c.payload as unknown as AcquireLockRequest).requestId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    // One lease secret for all attempts: a retry that finds the first attempt's grant gets it back.
    const secrets = new Set(rpc.calls.map((c) => (c.payload as unknown as AcquireLockRequest).leaseSecret));
    expect(secrets.size).toBe(1);
    expect(isLeaseSecret([...secrets][0])).toBe(true);
    expect(rpc.calls[0].payload).toMatchObject({ resource: 'r', owner: 'me', mode: 'exclusive', ttlMs: 1_000, waitMs: 500 });
    expect(rpc.calls[2].payload['waitMs']).toBeLessThanOrEqual(500);
  });

  it('long-polls a waiting acquire: short attempts, re-sent with the same request id and secret until one answers', async () => {
    // Each attempt that runs out (a replica that died, or a wait still going on) is re-sent; the
    // grant made meanwhile comes back on a later attempt.
    const rpc = fakeRpc((_p, _payload, call) => {
      if (call <= 4) throw new CairnError('TIMEOUT', 'no answer within the attempt');
      return grant(9);
    });
    const client = new LockClient(rpc, { owner: 'me' });
    await expect(client.acquire('r', { ttlMs: 1_000, waitMs: 30_000 })).resolves.toMatchObject({ fencingToken: 9 });
    expect(rpc.calls).toHaveLength(5);
    for (const c of rpc.calls) expect(c.timeoutMs).toBeLessThanOrEqual(ACQUIRE_ATTEMPT_MAX_MS);
    const payloads = rpc.calls.map((c) => c.payload as unknown as AcquireLockRequest);
    expect(new Set(payloads.map((p) => p.requestId)).size).toBe(1);
    expect(new Set(payloads.map((p) => p.leaseSecret)).size).toBe(1);
  });

  it('does not retry a refusal that is an answer', async () => {
    const rpc = fakeRpc(() => {
      throw new CairnError('LOCK_CONFLICT', 'held');
    });
    await expect(new LockClient(rpc, { owner: 'me' }).acquire('r', { ttlMs: 1_000 })).rejects.toMatchObject({ code: 'LOCK_CONFLICT' });
    expect(rpc.calls).toHaveLength(1);
  });

  it('reports a conflict met by a retry after the wait ran out as a wait timeout', async () => {
    const rpc = fakeRpc(async (_p, payload, call) => {
      // The attempt ran out after the wait had (a long poll's timeout is re-sent at once).
      if (call === 1) await sleep(5).then(() => Promise.reject(new CairnError('TIMEOUT', 'replica died while we waited')));
      expect(payload['waitMs']).toBe(0);
      throw new CairnError('LOCK_CONFLICT', 'held');
    });
    await expect(new LockClient(rpc, { owner: 'me' }).acquire('r', { ttlMs: 1_000, waitMs: 1 })).rejects.toMatchObject({ code: 'LOCK_WAIT_TIMEOUT' });
  });

  it('gives up when the retry budget is spent', async () => {
    const rpc = fakeRpc(() => {
      throw new CairnError('NO_HANDLER', 'nobody home');
    });
    const started = Date.now();
    await expect(new LockClient(rpc, { owner: 'me', retryBudgetMs: 300 }).inspect('r')).rejects.toMatchObject({ code: 'NO_HANDLER' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(rpc.calls.length).toBeGreaterThan(1);
  });

  it('treats NOT_HELD on a retried release as released, but not on the first attempt', async () => {
    const retried = fakeRpc((_p, _x, call) => {
      if (call === 1) throw new CairnError('TIMEOUT', 'reply lost');
      throw new CairnError('LOCK_NOT_HELD', 'already released');
    });
    await expect(new LockClient(retried, { owner: 'me' }).release(grant(1))).resolves.toBeUndefined();
    const first = fakeRpc(() => {
      throw new CairnError('LOCK_NOT_HELD', 'expired');
    });
    await expect(new LockClient(first, { owner: 'me' }).release(grant(1))).rejects.toMatchObject({ code: 'LOCK_NOT_HELD' });
  });

  it('keeps the lease secret it drew and sends it on renew and release; each acquire draws a new one', async () => {
    const rpc = fakeRpc((pattern, payload) => {
      if (pattern === 'acquire') return { ...grant(payload['resource'] === 'r2' ? 9 : 8), resource: payload['resource'] };
      if (pattern === 'renew') return { resource: payload['resource'], owner: 'me', fencingToken: payload['fencingToken'], expiresAtMs: 5_000 };
      return { resource: payload['resource'], owner: 'me', fencingToken: payload['fencingToken'] };
    });
    const client = new LockClient(rpc, { owner: 'me' });
    const first = await client.acquire('r', { ttlMs: 1_000 });
    const sent = rpc.calls[0].payload['leaseSecret'];
    expect(first.leaseSecret).toBe(sent);
    await client.renew(first, 1_000);
    await client.release(first);
    expect(rpc.calls.slice(1).map((c) => [c.pattern, c.payload['leaseSecret']])).toEqual([
      ['renew', sent],
      ['release', sent],
    ]);
    const held = await client.hold('r2', { ttlMs: 60_000 });
    expect(held.current().leaseSecret).not.toBe(sent);
    await held.release();
    expect(rpc.calls[rpc.calls.length - 1]).toMatchObject({ pattern: 'release', payload: { resource: 'r2', fencingToken: 9, leaseSecret: held.current().leaseSecret } });
  });

  it('signals loss when the lock-manager refuses the lease secret', async () => {
    const rpc = fakeRpc((pattern) => {
      if (pattern === 'acquire') return grant(4);
      throw new CairnError('LOCK_SECRET_MISMATCH', 'not the grant’s secret');
    });
    const held = await new LockClient(rpc, { owner: 'me' }).hold('r', { ttlMs: 150 });
    await sleep(120);
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toMatchObject({ code: 'LOCK_LOST', message: expect.stringContaining('secret') });
    expect(rpc.calls.filter((c) => c.pattern === 'renew')).toHaveLength(1);
  });

  it('renews a held lock at a third of its ttl and stops after release', async () => {
    const rpc = fakeRpc((pattern, payload) => {
      if (pattern === 'acquire') return grant(3);
      if (pattern === 'renew') return { resource: 'r', owner: 'me', fencingToken: payload['fencingToken'], expiresAtMs: 5_000 };
      return { resource: 'r', owner: 'me', fencingToken: 3 };
    });
    const held = await new LockClient(rpc, { owner: 'me' }).hold('r', { ttlMs: 300 });
    await sleep(350);
    const renewals = rpc.calls.filter((c) => c.pattern === 'renew');
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    expect(renewals.length).toBeLessThanOrEqual(4);
    expect(renewals[0].payload).toMatchObject({ fencingToken: 3, ttlMs: 300 });
    expect(held.current().expiresAtMs).toBe(5_000);
    expect(held.signal.aborted).toBe(false);
    await held.release();
    const after = rpc.calls.length;
    await sleep(250);
    expect(rpc.calls.length).toBe(after);
    expect(rpc.calls[after - 1].pattern).toBe('release');
  });

  it('signals loss when the lock-manager refuses a renewal', async () => {
    const rpc = fakeRpc((pattern) => {
      if (pattern === 'acquire') return grant(4);
      throw new CairnError('LOCK_NOT_HELD', 'expired');
    });
    const held = await new LockClient(rpc, { owner: 'me' }).hold('r', { ttlMs: 150 });
    await sleep(120);
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toMatchObject({ code: 'LOCK_LOST' });
  });

  it('signals loss when renewals keep failing until the lease may have ended', async () => {
    const rpc = fakeRpc((pattern) => {
      if (pattern === 'acquire') return grant(5);
      throw new CairnError('NO_HANDLER', 'cut off');
    });
    const held = await new LockClient(rpc, { owner: 'me', attemptTimeoutMs: 50 }).hold('r', { ttlMs: 300 });
    await sleep(150);
    expect(held.signal.aborted).toBe(false);
    await sleep(300);
    expect(held.signal.aborted).toBe(true);
  });

  it('runs a singleton only while it holds the lock, and stops it when the lock is lost', async () => {
    let holder: string | undefined;
    let renewRefused = false;
    const rpc = fakeRpc((pattern, payload) => {
      if (pattern === 'acquire') {
        if (holder) throw new CairnError('LOCK_WAIT_TIMEOUT', 'held');
        holder = String(payload['owner']);
        return { ...grant(1), owner: holder };
      }
      if (pattern === 'renew') {
        if (renewRefused) throw new CairnError('LOCK_NOT_HELD', 'expired');
        return { resource: payload['resource'], owner: payload['owner'], fencingToken: 1, expiresAtMs: 9_000 };
      }
      holder = undefined;
      return { resource: payload['resource'], owner: payload['owner'], fencingToken: 1 };
    });
    const runs: string[] = [];
    let aborted = 0;
    const client = new LockClient(rpc, { owner: 'me' });
    const run = client.runAsSingleton(
      'compactor',
      async ({ fencingToken, signal }) => {
        runs.push(`token-${fencingToken}`);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        aborted++;
      },
      { ttlMs: 90 },
    );
    try {
      await sleep(60);
      expect(run.active).toBe(true);
      expect(runs).toEqual(['token-1']);
      expect(rpc.calls[0].payload['resource']).toBe('singleton/compactor');
      renewRefused = true;
      await sleep(100);
      expect(aborted).toBe(1);
      renewRefused = false;
    } finally {
      await run.stop();
    }
    expect(run.active).toBe(false);
    expect(holder).toBeUndefined();
  });
});
