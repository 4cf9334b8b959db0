import type { DynamicModule } from '@nestjs/common';
import { loadConfig, type ServiceIdentity } from '@cairn/service-kit';
import { LockManagerConfig } from './lock-manager.config';
import { LOCK_RAFT_OPTIONS, type LockRaftOptions } from './locks/lock-raft-node.service';
import { LockManagerService } from './service';

const ENV = { CAIRN_HTTP_PORT: '9401', CAIRN_CLUSTER_SECRET: 'x'.repeat(32) };
const load = (env: Record<string, string> = {}) => loadConfig(LockManagerConfig, { ...ENV, ...env });

/** The Raft options the service hands its LocksModule for a config. */
function raftOptionsOf(config: LockManagerConfig): LockRaftOptions {
  const identity: ServiceIdentity = { service: 'lock-manager', instance: 'lock-manager-1', namespace: 'cairn', region: 'local', version: '0.1.0' };
  const root = LockManagerService.module(config, identity) as DynamicModule;
  for (const imported of root.imports ?? []) {
    const provider = ((imported as DynamicModule).providers ?? []).find((p) => typeof p === 'object' && 'provide' in p && p.provide === LOCK_RAFT_OPTIONS);
    if (provider) return (provider as { useValue: LockRaftOptions }).useValue;
  }
  throw new Error('no LOCK_RAFT_OPTIONS provider');
}

describe('LockManagerConfig: CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST', () => {
  it('is off by default: a leader sends its appends only after its own fsync', () => {
    const config = load();
    expect(config.CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST).toBe(false);
    expect(raftOptionsOf(config).sendAppendsBeforePersist).toBe(false);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('%s turns it %s, and the Raft node is given it', (value, expected) => {
    const config = load({ CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST: value });
    expect(config.CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST).toBe(expected);
    expect(raftOptionsOf(config).sendAppendsBeforePersist).toBe(expected);
  });

  it('refuses anything else at start, naming the variable', () => {
    expect(() => load({ CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST: 'yes' })).toThrow(/CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST is "yes"/);
  });
});
