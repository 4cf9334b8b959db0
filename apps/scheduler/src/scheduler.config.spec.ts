import { erasureCodeOf, ErasureCodingServiceConfig } from '@cairn/chunk-client';
import { chooseErasureCode } from '@cairn/erasure';
import { loadConfig } from '@cairn/service-kit';
import { SchedulerConfig } from './scheduler.config';

const load = (env: Record<string, string>) => loadConfig(SchedulerConfig, { CAIRN_HTTP_PORT: '9500', ...env });

describe('SchedulerConfig: the erasure code lifecycle transitions write', () => {
  it('reads CAIRN_EC_* as the gateway does (the same class validates both)', () => {
    expect(new SchedulerConfig()).toBeInstanceOf(ErasureCodingServiceConfig);
    const env = { CAIRN_EC_DATA_SHARDS: '6', CAIRN_EC_PARITY_SHARDS: '3' };
    expect(erasureCodeOf(load(env))).toEqual(erasureCodeOf(loadConfig(ErasureCodingServiceConfig, { CAIRN_HTTP_PORT: '9000', ...env })));
  });

  it.each([
    // [CAIRN_EC_*, storage nodes, the code a transition writes]
    [{}, 3, '2+1'],
    [{}, 4, '3+1'],
    [{}, 6, '4+2'],
    [{}, 9, '4+2'],
    [{ CAIRN_EC_DATA_SHARDS: '4', CAIRN_EC_PARITY_SHARDS: '2' }, 6, '4+2'],
    [{ CAIRN_EC_DATA_SHARDS: '2', CAIRN_EC_PARITY_SHARDS: '2' }, 4, '2+2'],
    [{ CAIRN_EC_DATA_SHARDS: '6', CAIRN_EC_PARITY_SHARDS: '3' }, 9, '6+3'],
    [{ CAIRN_EC_DATA_SHARDS: '6', CAIRN_EC_PARITY_SHARDS: '3' }, 6, '4+2'],
    [{ CAIRN_EC_DATA_SHARDS: '2', CAIRN_EC_PARITY_SHARDS: '1' }, 6, '2+1'],
  ])('%j on %i nodes → %s', (env, nodes, expected) => {
    const code = chooseErasureCode(nodes, erasureCodeOf(load(env)));
    expect(code && `${code.dataShards}+${code.parityShards}`).toBe(expected);
  });

  it('refuses a code out of bounds at start, naming the variable', () => {
    expect(() => load({ CAIRN_EC_DATA_SHARDS: '20' })).toThrow(/CAIRN_EC_DATA_SHARDS is "20"/);
    expect(() => load({ CAIRN_EC_PARITY_SHARDS: '0' })).toThrow(/CAIRN_EC_PARITY_SHARDS is "0"/);
  });
});
