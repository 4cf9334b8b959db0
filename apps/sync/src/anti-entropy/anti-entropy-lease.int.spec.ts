import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, startServiceProcess, testNamespace, type ServiceProcess } from '@cairn/testing';
import { SyncService } from '../service';
import type { SyncConfig } from '../sync.config';
import { AntiEntropyService } from './anti-entropy.service';

/** The lease's TTL is 10 s: the standby takes over within about that once the leader is gone. */
const TAKEOVER_MS = 20_000;

/**
 * Only one sync of a region runs anti-entropy: the holder of the `sync-anti-entropy` lease from
 * the region's lock-manager (a real one, as its own process). Two sync instances: exactly one
 * leads, the other stands by and refuses runs; when the leader stops, the other takes over.
 */
describe('anti-entropy lease (real lock-manager and NATS)', () => {
  const ns = testNamespace();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-ae-lease-'));
  let locks: ServiceProcess;
  const syncs: RunningService<SyncConfig>[] = [];

  beforeAll(async () => {
    locks = await startServiceProcess({ app: 'lock-manager', env: { CAIRN_NS: ns, CAIRN_INSTANCE: 'lock-manager-1', CAIRN_DATA_DIR: dataDir } });
    for (const instance of ['sync-a', 'sync-b']) {
      // A peer that never answers: the comparisons fail, which does not matter here; the lease does.
      syncs.push(await bootForTest(SyncService, ns, { CAIRN_INSTANCE: instance, CAIRN_SYNC_PEERS: 'region-9', CAIRN_ANTI_ENTROPY_LEASE: 'lock', CAIRN_ANTI_ENTROPY_INTERVAL_MS: '0' }));
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of syncs) await s.close().catch(() => undefined);
    await locks?.stop();
    await dropNamespace(ns);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const leaders = () => syncs.filter((s) => s.app.get(AntiEntropyService).leader);

  it('exactly one instance leads; the other refuses runs; the other takes over when the leader stops', async () => {
    const [leader] = await eventually(() => (leaders().length === 1 ? leaders() : undefined), TAKEOVER_MS, 100);
    // Never two at once, over a while.
    for (let i = 0; i < 20; i++) {
      expect(leaders().length).toBeLessThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const standby = syncs.find((s) => s !== leader)!;
    expect(() => standby.app.get(AntiEntropyService).requestRun()).toThrow(/does not hold the sync-anti-entropy lease/);
    expect(leader.app.get(AntiEntropyService).requestRun()).toEqual(['*→region-9']);
    expect(standby.app.get(AntiEntropyService).status().progress?.detail).toMatch(/standby/);

    await leader.close();
    syncs.splice(syncs.indexOf(leader), 1);
    await eventually(() => standby.app.get(AntiEntropyService).leader, TAKEOVER_MS, 100);
  }, 60_000);
});
