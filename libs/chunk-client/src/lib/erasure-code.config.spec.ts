import { loadConfig } from '@cairn/service-kit';
import { ErasureCodingServiceConfig, erasureCodeOf } from './erasure-code.config';
import { DEFAULT_ERASURE_CODE } from './storage-class-chunks';

const load = (env: Record<string, string>) => loadConfig(ErasureCodingServiceConfig, { CAIRN_HTTP_PORT: '1', ...env });

describe('ErasureCodingServiceConfig (CAIRN_EC_*)', () => {
  it('defaults to 4+2', () => {
    expect(erasureCodeOf(load({}))).toEqual(DEFAULT_ERASURE_CODE);
  });

  it.each([
    [{ CAIRN_EC_DATA_SHARDS: '2', CAIRN_EC_PARITY_SHARDS: '1' }, { dataShards: 2, parityShards: 1 }],
    [{ CAIRN_EC_DATA_SHARDS: '6', CAIRN_EC_PARITY_SHARDS: '3' }, { dataShards: 6, parityShards: 3 }],
    [{ CAIRN_EC_DATA_SHARDS: '12', CAIRN_EC_PARITY_SHARDS: '4' }, { dataShards: 12, parityShards: 4 }],
    [{ CAIRN_EC_DATA_SHARDS: '8' }, { dataShards: 8, parityShards: 2 }],
  ])('reads %j as %j', (env, code) => {
    expect(erasureCodeOf(load(env))).toEqual(code);
  });

  it.each([
    [{ CAIRN_EC_DATA_SHARDS: '1' }, /CAIRN_EC_DATA_SHARDS is "1": must not be less than 2/],
    [{ CAIRN_EC_DATA_SHARDS: '13' }, /CAIRN_EC_DATA_SHARDS is "13": must not be greater than 12/],
    [{ CAIRN_EC_DATA_SHARDS: '4.5' }, /CAIRN_EC_DATA_SHARDS is "4.5": must be an integer/],
    [{ CAIRN_EC_PARITY_SHARDS: '0' }, /CAIRN_EC_PARITY_SHARDS is "0": must not be less than 1/],
    [{ CAIRN_EC_PARITY_SHARDS: '5' }, /CAIRN_EC_PARITY_SHARDS is "5": must not be greater than 4/],
    [{ CAIRN_EC_PARITY_SHARDS: 'two' }, /CAIRN_EC_PARITY_SHARDS is "two"/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => load(env)).toThrow(message);
  });
});
