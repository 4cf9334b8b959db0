import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../config/service-config';
import { redisTlsOptions } from './redis-connection';

describe('Redis TLS (rediss://, CAIRN_REDIS_TLS_CA_FILE)', () => {
  let dir: string;
  let caFile: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cairn-redis-tls-'));
    caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves TLS to the URL without a CA file, and checks the server against the CA with one', () => {
    expect(redisTlsOptions('redis://127.0.0.1:6379', undefined)).toEqual({});
    expect(redisTlsOptions('rediss://:pw@redis:6380', undefined)).toEqual({});
    expect(redisTlsOptions('rediss://:pw@redis:6380', caFile)).toEqual({ tls: { ca: expect.stringContaining('BEGIN CERTIFICATE'), rejectUnauthorized: true } });
  });

  it('refuses a CA file without rediss://, or one it cannot read, naming the variable', () => {
    expect(() => redisTlsOptions('redis://:pw@redis:6379', caFile)).toThrow(ConfigError);
    expect(() => redisTlsOptions('redis://:pw@redis:6379', caFile)).toThrow(/CAIRN_REDIS_TLS_CA_FILE .*rediss:\/\//);
    expect(() => redisTlsOptions('redis://:pw@redis:6379', caFile)).not.toThrow(/pw@/);
    expect(() => redisTlsOptions('rediss://redis:6380', path.join(dir, 'missing.pem'))).toThrow(/cannot be read \(ENOENT\)/);
  });
});
