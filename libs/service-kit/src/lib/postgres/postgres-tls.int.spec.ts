import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../config/service-config';
import { PostgresConnection, postgresSsl } from './postgres-connection';

const DATABASE_URL = process.env['CAIRN_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('Postgres TLS (CAIRN_DATABASE_TLS, CAIRN_DATABASE_TLS_CA_FILE)', () => {
  let dir: string;
  let caFile: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cairn-pg-tls-'));
    caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps each mode to pg’s ssl option', () => {
    expect(postgresSsl(DATABASE_URL, undefined)).toBe(false);
    expect(postgresSsl(DATABASE_URL, { mode: 'disable' })).toBe(false);
    expect(postgresSsl(DATABASE_URL, { mode: 'require' })).toEqual({ rejectUnauthorized: false });
    expect(postgresSsl(DATABASE_URL, { mode: 'verify-full' })).toEqual({ rejectUnauthorized: true });
    expect(postgresSsl(DATABASE_URL, { mode: 'verify-full', caFile })).toEqual({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
  });

  it('refuses contradictory settings, naming the variable', () => {
    expect(() => postgresSsl(DATABASE_URL, { mode: 'require', caFile })).toThrow(ConfigError);
    expect(() => postgresSsl(DATABASE_URL, { mode: 'require', caFile })).toThrow(/CAIRN_DATABASE_TLS_CA_FILE .*verify-full/);
    expect(() => postgresSsl(`${DATABASE_URL}?sslmode=require`, { mode: 'verify-full' })).toThrow(/CAIRN_DATABASE_TLS is "verify-full": CAIRN_DATABASE_URL sets TLS itself/);
    expect(() => postgresSsl(DATABASE_URL, { mode: 'verify-full', caFile: path.join(dir, 'missing.pem') })).toThrow(/CAIRN_DATABASE_TLS_CA_FILE is ".*missing.pem": cannot be read \(ENOENT\)/);
    expect(() => new PostgresConnection({ url: DATABASE_URL, schema: 'unused', tls: { mode: 'disable', caFile } })).toThrow(ConfigError);
  });

  it('asks the server for TLS when required (the local test server has none, so it is refused)', async () => {
    const postgres = new PostgresConnection({ url: DATABASE_URL, schema: 'tls_probe', tls: { mode: 'require' } });
    try {
      const deadline = Date.now() + 5_000;
      let problem = '';
      while (Date.now() < deadline) {
        problem = await postgres.check().then(
          () => 'connected',
          (error: Error) => error.message,
        );
        if (problem !== 'not connected yet') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(problem).toMatch(/does not support SSL/i);
    } finally {
      await postgres.close();
    }
  });
});
