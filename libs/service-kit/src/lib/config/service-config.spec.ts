import { IsString, Matches } from 'class-validator';
import { BaseServiceConfig, ConfigError, loadConfig } from './service-config';

class WithDatabase extends BaseServiceConfig {
  @IsString()
  @Matches(/^postgres:\/\//, { message: 'must be a postgres:// URL' })
  CAIRN_DATABASE_URL = 'postgres://localhost/db';
}

describe('loadConfig', () => {
  it('applies defaults and converts numbers', () => {
    const config = loadConfig(WithDatabase, { CAIRN_HTTP_PORT: '9100' });
    expect(config.CAIRN_HTTP_PORT).toBe(9100);
    expect(config.CAIRN_REGION).toBe('region-1');
    expect(config.CAIRN_NATS_URL).toBe('nats://127.0.0.1:4222');
  });

  it('rejects a bad value with a message naming the variable and what it was', () => {
    expect(() => loadConfig(WithDatabase, { CAIRN_HTTP_PORT: '9100', CAIRN_DATABASE_URL: 'mysql://x' })).toThrow(
      'CAIRN_DATABASE_URL is "mysql://x": must be a postgres:// URL',
    );
  });

  it('names a missing required variable', () => {
    expect(() => loadConfig(BaseServiceConfig, {})).toThrow(/CAIRN_HTTP_PORT is missing/);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '70000', CAIRN_LOG_LEVEL: 'loud', CAIRN_NATS_URL: 'http://x' });
      fail('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.split(' ')[0]).sort()).toEqual(['CAIRN_HTTP_PORT', 'CAIRN_LOG_LEVEL', 'CAIRN_NATS_URL']);
    }
  });

  it('accepts an empty namespace and refuses one that could escape its subjects', () => {
    expect(loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1', CAIRN_NS: '' }).CAIRN_NS).toBe('');
    expect(() => loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1', CAIRN_NS: 'a.b' })).toThrow(/CAIRN_NS/);
  });

  it('reads the region replication factor: 3 unless set, a whole number of copies the ring can place', () => {
    expect(loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1' }).CAIRN_REPLICATION_FACTOR).toBe(3);
    expect(loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1', CAIRN_REPLICATION_FACTOR: '1' }).CAIRN_REPLICATION_FACTOR).toBe(1);
    expect(loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1', CAIRN_REPLICATION_FACTOR: '5' }).CAIRN_REPLICATION_FACTOR).toBe(5);
    for (const nonsense of ['0', '-1', '2.5', 'three', '17', '3 copies']) {
      expect(() => loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1', CAIRN_REPLICATION_FACTOR: nonsense })).toThrow(
        `CAIRN_REPLICATION_FACTOR is "${nonsense}": must be a whole number of copies from 1 to 16 (3 unless set)`,
      );
    }
  });

  it('signs NATS messages as v2 unless told v1 (a rolling upgrade from services that verify v1 only)', () => {
    expect(loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1' }).CAIRN_MESSAGE_SIGNATURE_VERSION).toBe('v2');
    expect(loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1', CAIRN_MESSAGE_SIGNATURE_VERSION: 'v1' }).CAIRN_MESSAGE_SIGNATURE_VERSION).toBe('v1');
    expect(() => loadConfig(BaseServiceConfig, { CAIRN_HTTP_PORT: '1', CAIRN_MESSAGE_SIGNATURE_VERSION: 'v3' })).toThrow(/CAIRN_MESSAGE_SIGNATURE_VERSION/);
  });
});
