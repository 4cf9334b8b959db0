import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LockClient } from '@cairn/lock-client';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, signedFetch, TEST_NATS_URL, testClusterCredentials, testNamespace } from '@cairn/testing';
import { isLeaseSecret, LEASE_SECRET_BYTES, type LockInspection } from '@cairn/protocol';
import type { LockManagerConfig } from '../lock-manager.config';
import { LockManagerService } from '../service';
import { instancePattern } from './locks.service';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One in-process lock-manager (a Raft group of one) answering over HTTP and NATS. */
describe('the lock API of a single lock-manager', () => {
  const namespace = testNamespace();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-lock-api-'));
  const nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'test', serviceName: 'lock-test', instance: 'lock-test' });
  const rpc = new RpcClient(nats, namespace, testClusterCredentials());
  let running: RunningService<LockManagerConfig>;

  const post = async (url: string, body: unknown) => {
    const res = await signedFetch(`${running.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    running = await bootForTest(LockManagerService, namespace, { CAIRN_DATA_DIR: dataDir });
    await running.transport.started;
    await eventually(async () => ((await (await fetch(`${running.url}/health`)).json()) as { raft: { role: string } }).raft.role === 'leader', 10_000);
  });

  afterAll(async () => {
    await running?.close();
    await nats.close();
    await dropNamespace(namespace);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('acquires, refuses, renews, inspects and releases over HTTP with stable codes', async () => {
    const granted = await post('/locks/bucket%2Fphotos/acquire', { owner: 'a', ttlMs: 10_000 });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ resource: 'bucket/photos', owner: 'a', mode: 'exclusive', fencingToken: 1, expiresAtMs: expect.any(Number), leaseSecret: expect.any(String) });
    const leaseSecret = granted.body['leaseSecret'] as string;
    expect(isLeaseSecret(leaseSecret)).toBe(true);

    const refused = await post('/locks/bucket%2Fphotos/acquire', { owner: 'b', ttlMs: 10_000 });
    expect(refused).toMatchObject({ status: 409, body: { code: 'LOCK_CONFLICT' } });

    const renewed = await post('/locks/bucket%2Fphotos/renew', { owner: 'a', fencingToken: 1, leaseSecret, ttlMs: 20_000 });
    expect(renewed.status).toBe(200);
    expect(renewed.body['expiresAtMs']).toBeGreaterThan(granted.body['expiresAtMs'] as number);
    expect(renewed.body).not.toHaveProperty('leaseSecret');

    const inspected = await signedFetch(`${running.url}/locks/bucket%2Fphotos`);
    const inspection = await inspected.text();
    expect(JSON.parse(inspection)).toMatchObject({ lastFencingToken: 1, holders: [{ owner: 'a', fencingToken: 1 }], waiters: [] });
    expect(inspection).not.toContain(leaseSecret);
    expect(inspection).not.toMatch(/secret/i);

    expect(await post('/locks/bucket%2Fphotos/release', { owner: 'a', fencingToken: 1, leaseSecret })).toMatchObject({ status: 200 });
    expect(await post('/locks/bucket%2Fphotos/release', { owner: 'a', fencingToken: 1, leaseSecret })).toMatchObject({ status: 409, body: { code: 'LOCK_NOT_HELD' } });
    expect(await post('/locks/bucket%2Fphotos/acquire', { owner: 'b', ttlMs: 10_000 })).toMatchObject({ status: 200, body: { fencingToken: 2 } });
  });

  it('refuses to renew or release someone else’s lease over HTTP without its secret, and the holder keeps it', async () => {
    const granted = await post('/locks/victim-http/acquire', { owner: 'victim', ttlMs: 10_000 });
    expect(granted.status).toBe(200);
    const { fencingToken, leaseSecret, expiresAtMs } = granted.body as { fencingToken: number; leaseSecret: string; expiresAtMs: number };
    // Nothing at all without the cluster's signature: not a release, not a look at the holder.
    const anonymous = await fetch(`${running.url}/locks/victim-http/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ owner: 'victim', fencingToken }) });
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${running.url}/locks/victim-http`)).status).toBe(401);
    await expect(new RpcClient(nats, namespace).request('lock-manager', 'release', { resource: 'victim-http', owner: 'victim', fencingToken })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    // Nor on the subject replicas forward to the leader on.
    for (const [op, payload] of [['acquire', { resource: 'victim-http', owner: 'thief', ttlMs: 10_000 }], ['release', { resource: 'victim-http', owner: 'victim', fencingToken }]] as const) {
      await expect(new RpcClient(nats, namespace).request('lock-manager', instancePattern('lock-manager-test', op), payload)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    // Owner and token are public to services (inspect shows them); without the secret they are not enough.
    expect(await post('/locks/victim-http/release', { owner: 'victim', fencingToken })).toMatchObject({ status: 400, body: { code: 'INVALID_COMMAND' } });
    const guessed = 'A'.repeat(43);
    expect(await post('/locks/victim-http/release', { owner: 'victim', fencingToken, leaseSecret: guessed })).toMatchObject({ status: 403, body: { code: 'LOCK_SECRET_MISMATCH' } });
    expect(await post('/locks/victim-http/renew', { owner: 'victim', fencingToken, leaseSecret: guessed, ttlMs: 600_000 })).toMatchObject({ status: 403, body: { code: 'LOCK_SECRET_MISMATCH' } });
    expect(await post('/locks/victim-http/release', { owner: 'victim', fencingToken, leaseSecret: 'short' })).toMatchObject({ status: 400 });
    expect(await post('/locks/victim-http/acquire', { owner: 'attacker', ttlMs: 10_000 })).toMatchObject({ status: 409, body: { code: 'LOCK_CONFLICT' } });
    const inspected = (await (await signedFetch(`${running.url}/locks/victim-http`)).json()) as LockInspection;
    expect(inspected.holders).toEqual([{ owner: 'victim', mode: 'exclusive', fencingToken, expiresAtMs }]);

    expect(await post('/locks/victim-http/renew', { owner: 'victim', fencingToken, leaseSecret, ttlMs: 10_000 })).toMatchObject({ status: 200 });
    expect(await post('/locks/victim-http/release', { owner: 'victim', fencingToken, leaseSecret })).toMatchObject({ status: 200, body: { owner: 'victim', fencingToken } });
  });

  it('refuses the same over NATS, on the service subject and on the replica’s own forwarding subject', async () => {
    const victim = new LockClient(rpc, { owner: 'victim' });
    const held = await victim.acquire('victim-nats', { ttlMs: 10_000 });
    const { fencingToken } = held;
    const guessed = 'B'.repeat(43);
    await expect(rpc.request('lock-manager', 'release', { resource: 'victim-nats', owner: 'victim', fencingToken })).rejects.toMatchObject({ code: 'INVALID_COMMAND' });
    await expect(rpc.request('lock-manager', 'release', { resource: 'victim-nats', owner: 'victim', fencingToken, leaseSecret: guessed })).rejects.toMatchObject({
      code: 'LOCK_SECRET_MISMATCH',
    });
    await expect(rpc.request('lock-manager', 'renew', { resource: 'victim-nats', owner: 'victim', fencingToken, leaseSecret: guessed, ttlMs: 1_000 })).rejects.toMatchObject({
      code: 'LOCK_SECRET_MISMATCH',
    });
    // What followers forward to the leader skips the DTOs; the secret is checked all the same.
    const forwarded = (op: string) => `lock-manager-test.${op}`;
    await expect(rpc.request('lock-manager', forwarded('release'), { resource: 'victim-nats', owner: 'victim', fencingToken })).rejects.toMatchObject({ code: 'LOCK_INVALID_REQUEST' });
    await expect(rpc.request('lock-manager', forwarded('release'), { resource: 'victim-nats', owner: 'victim', fencingToken, leaseSecret: guessed })).rejects.toMatchObject({
      code: 'LOCK_SECRET_MISMATCH',
    });
    await expect(rpc.request('lock-manager', forwarded('renew'), { resource: 'victim-nats', owner: 'victim', fencingToken, leaseSecret: guessed, ttlMs: 1_000 })).rejects.toMatchObject({
      code: 'LOCK_SECRET_MISMATCH',
    });
    expect((await victim.inspect('victim-nats')).holders).toEqual([expect.objectContaining({ owner: 'victim', fencingToken })]);

    // The holder's client sends its secret by itself.
    await expect(victim.renew(held, 10_000)).resolves.toMatchObject({ fencingToken });
    await victim.release(held);
    expect((await victim.inspect('victim-nats')).holders).toEqual([]);
  });

  it('answers a re-sent acquire (same request id and secret) with the grant made while no attempt listened, or waits for it', async () => {
    const holder = new LockClient(rpc, { owner: 'resend-holder' });
    const held = await holder.acquire('resend', { ttlMs: 10_000 });
    const secret = () => randomBytes(LEASE_SECRET_BYTES).toString('base64url');
    const b = { resource: 'resend', owner: 'resend-b', mode: 'exclusive', ttlMs: 10_000, waitMs: 20_000, requestId: randomUUID(), leaseSecret: secret() };
    const c = { resource: 'resend', owner: 'resend-c', mode: 'exclusive', ttlMs: 10_000, waitMs: 20_000, requestId: randomUUID(), leaseSecret: secret() };
    // Both queue, and both attempts are given up on (as when the replica they reached died).
    await expect(rpc.request('lock-manager', 'acquire', b, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(rpc.request('lock-manager', 'acquire', c, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((await holder.inspect('resend')).waiters.map((w) => w.owner)).toEqual(['resend-b', 'resend-c']);

    // b's grant is made while nobody waits for it; b's re-send gets it, not a second one.
    await holder.release(held);
    await eventually(async () => (await holder.inspect('resend')).holders.some((h) => h.owner === 'resend-b'));
    const grantB = await rpc.request<{ fencingToken: number; leaseSecret: string }>('lock-manager', 'acquire', b, { timeoutMs: 5_000 });
    expect(grantB).toMatchObject({ owner: 'resend-b', fencingToken: held.fencingToken + 1, leaseSecret: b.leaseSecret });
    await expect(rpc.request('lock-manager', 'acquire', b, { timeoutMs: 5_000 })).resolves.toMatchObject({ fencingToken: held.fencingToken + 1 });
    // Another secret with b's request id is not b's retry.
    await expect(rpc.request('lock-manager', 'acquire', { ...b, leaseSecret: secret() }, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'LOCK_SECRET_MISMATCH' });

    // c re-sends while still queued: the re-send waits for the grant and gets it when b lets go.
    const resent = rpc.request<{ fencingToken: number }>('lock-manager', 'acquire', c, { timeoutMs: 10_000 });
    await sleep(100);
    await new LockClient(rpc, { owner: 'resend-b' }).release({ resource: 'resend', fencingToken: grantB.fencingToken, leaseSecret: b.leaseSecret });
    await expect(resent).resolves.toMatchObject({ owner: 'resend-c', fencingToken: held.fencingToken + 2 });
    const inspection = await holder.inspect('resend');
    expect(inspection).toMatchObject({ lastFencingToken: held.fencingToken + 2, holders: [expect.objectContaining({ owner: 'resend-c' })], waiters: [] });
  });

  it('reports its Raft role as health info and metrics', async () => {
    const health = (await (await fetch(`${running.url}/health`)).json()) as { status: string; raft: Record<string, unknown> };
    expect(health).toMatchObject({ status: 'ok', raft: { started: true, role: 'leader', leader: 'lock-manager-test', node: 'lock-manager-test' } });
    const metrics = await (await signedFetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(/cairn_lock_manager_raft_leader\{[^}]*\} 1/);
    expect(metrics).toMatch(/cairn_lock_manager_raft_term\{[^}]*\} [1-9]/);
  });

  it('validates request bodies', async () => {
    expect(await post('/locks/x/acquire', { owner: 'a', ttlMs: 0 })).toMatchObject({ status: 400, body: { code: 'INVALID_COMMAND' } });
    expect(await post('/locks/x/acquire', { owner: 'a', ttlMs: 1_000, mode: 'sideways' })).toMatchObject({ status: 400 });
    expect(await post('/locks/x/acquire', { owner: 'a', ttlMs: 1_000, extra: true })).toMatchObject({ status: 400 });
    await expect(rpc.request('lock-manager', 'acquire', { owner: 'a', ttlMs: 1_000 })).rejects.toMatchObject({ code: 'INVALID_COMMAND' });
  });

  it('serves a waiter when the holder releases, and times a waiter out by committed time', async () => {
    const a = new LockClient(rpc, { owner: 'a' });
    const b = new LockClient(rpc, { owner: 'b' });
    const held = await a.acquire('queue', { ttlMs: 10_000 });
    const waiting = b.acquire('queue', { ttlMs: 10_000, waitMs: 5_000 });
    await eventually(async () => (await a.inspect('queue')).waiters.length === 1);
    await a.release(held);
    await expect(waiting).resolves.toMatchObject({ owner: 'b', fencingToken: held.fencingToken + 1 });

    const started = Date.now();
    await expect(a.acquire('queue', { ttlMs: 10_000, waitMs: 400 })).rejects.toMatchObject({ code: 'LOCK_WAIT_TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('expires an unrenewed lease by committed time and hands the lock on', async () => {
    const a = new LockClient(rpc, { owner: 'a' });
    const first = await a.acquire('lease', { ttlMs: 300 });
    const next = await new LockClient(rpc, { owner: 'b' }).acquire('lease', { ttlMs: 10_000, waitMs: 5_000 });
    expect(next.fencingToken).toBe(first.fencingToken + 1);
    await expect(a.renew(first, 1_000)).rejects.toMatchObject({ code: 'LOCK_NOT_HELD' });
  });

  it('refuses the youngest waiter of a deadlock with LOCK_DEADLOCK', async () => {
    const a = new LockClient(rpc, { owner: 'dl-a' });
    const b = new LockClient(rpc, { owner: 'dl-b' });
    await a.acquire('dl-1', { ttlMs: 10_000 });
    const dl2 = await b.acquire('dl-2', { ttlMs: 10_000 });
    const older = a.acquire('dl-2', { ttlMs: 10_000, waitMs: 5_000 });
    await eventually(async () => (await a.inspect('dl-2')).waiters.length === 1);
    await expect(b.acquire('dl-1', { ttlMs: 10_000, waitMs: 5_000 })).rejects.toMatchObject({ code: 'LOCK_DEADLOCK' });
    // The older waiter stays queued and is granted when dl-2 is freed.
    await b.release(dl2);
    await expect(older).resolves.toMatchObject({ owner: 'dl-a', resource: 'dl-2' });
  });

  it('runs a singleton in one client at a time and hands it over when that client stops', async () => {
    const active: string[] = [];
    let overlap = false;
    const runs = ['s-1', 's-2'].map((owner) =>
      new LockClient(rpc, { owner }).runAsSingleton(
        'compactor',
        async ({ signal }) => {
          if (active.length > 0) overlap = true;
          active.push(owner);
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
          active.splice(active.indexOf(owner), 1);
        },
        { ttlMs: 1_000 },
      ),
    );
    await eventually(() => active.length === 1);
    const first = active[0];
    await sleep(1_500); // longer than the ttl: renewal keeps the first one in place
    expect(active).toEqual([first]);
    const firstIndex = first === 's-1' ? 0 : 1;
    await runs[firstIndex].stop();
    await eventually(() => active.length === 1 && active[0] !== first, 5_000);
    await runs[1 - firstIndex].stop();
    expect(overlap).toBe(false);
  });
});
