import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nkeys } from 'nats';
import type { MessagingConfig } from './messaging.config';
import { natsSecurityOptions, natsSecurityProblems } from './nats-auth';
import { natsServerConfigFile, natsServicePermissions } from './nats-auth-permissions';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const BASE: MessagingConfig = { natsUrl: 'nats://127.0.0.1:4222', namespace: '', region: 'r', serviceName: 's', instance: 's-1' };

describe('NATS connection security settings', () => {
  let dir: string;
  let seedFile: string;
  let credsFile: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cairn-nats-settings-'));
    seedFile = path.join(dir, 'user.nk');
    writeFileSync(seedFile, new TextDecoder().decode(nkeys.createUser().getSeed()));
    credsFile = path.join(dir, 'user.creds');
    writeFileSync(credsFile, '-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\nSUAX\n------END USER NKEY SEED------\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts none, or any one way to authenticate', () => {
    expect(natsSecurityProblems(BASE)).toEqual([]);
    expect(natsSecurityProblems({ ...BASE, natsUser: 'metadata', natsPassword: 'pw' })).toEqual([]);
    expect(natsSecurityProblems({ ...BASE, natsToken: 't' })).toEqual([]);
    expect(natsSecurityProblems({ ...BASE, natsNkeySeedFile: seedFile })).toEqual([]);
    expect(natsSecurityProblems({ ...BASE, natsCredsFile: credsFile })).toEqual([]);
  });

  it('names the variable to fix, and never repeats a secret', () => {
    expect(natsSecurityProblems({ ...BASE, natsUser: 'metadata' })).toEqual(['CAIRN_NATS_PASSWORD is missing: CAIRN_NATS_USER is set and needs it']);
    expect(natsSecurityProblems({ ...BASE, natsPassword: 'hunter2' })).toEqual(['CAIRN_NATS_USER is missing: CAIRN_NATS_PASSWORD is set and needs it']);
    const both = natsSecurityProblems({ ...BASE, natsUser: 'u', natsPassword: 'hunter2', natsToken: 'tok-secret' });
    expect(both).toEqual(['CAIRN_NATS_USER/CAIRN_NATS_PASSWORD and CAIRN_NATS_TOKEN are all set: choose one way to authenticate to NATS']);
    expect(natsSecurityProblems({ ...BASE, natsUrl: 'nats://u:hunter2@127.0.0.1:4222', natsToken: 'tok-secret' })[0]).toMatch(/^CAIRN_NATS_URL carries credentials/);
    expect(natsSecurityProblems({ ...BASE, natsTlsCertFile: seedFile })).toEqual([
      'CAIRN_NATS_TLS_KEY_FILE is missing: CAIRN_NATS_TLS_CERT_FILE is set, and a client certificate needs its key',
    ]);
    expect(natsSecurityProblems({ ...BASE, natsTlsCaFile: path.join(dir, 'nope.pem') })).toEqual([`CAIRN_NATS_TLS_CA_FILE is "${path.join(dir, 'nope.pem')}": cannot be read (ENOENT)`]);
    expect(natsSecurityProblems({ ...BASE, natsNkeySeedFile: credsFile })[0]).toMatch(/^CAIRN_NATS_NKEY_SEED_FILE is ".*": does not hold a user nkey seed/);
    expect(natsSecurityProblems({ ...BASE, natsCredsFile: seedFile })[0]).toMatch(/^CAIRN_NATS_CREDS_FILE is ".*": not a NATS \.creds file/);
    for (const problem of [...both, ...natsSecurityProblems({ ...BASE, natsPassword: 'hunter2' })]) {
      expect(problem).not.toContain('hunter2');
      expect(problem).not.toContain('tok-secret');
    }
  });

  it('turns them into nats.js options: user and password, token, an authenticator reading the file, TLS files', () => {
    expect(natsSecurityOptions(BASE)).toEqual({});
    expect(natsSecurityOptions({ ...BASE, natsUser: 'metadata', natsPassword: 'pw' })).toEqual({ user: 'metadata', pass: 'pw' });
    expect(natsSecurityOptions({ ...BASE, natsToken: 't' })).toEqual({ token: 't' });
    const nkey = natsSecurityOptions({ ...BASE, natsNkeySeedFile: seedFile });
    expect(typeof nkey.authenticator).toBe('function');
    const auth = (nkey.authenticator as (nonce?: string) => { nkey?: string; sig?: string })('bm9uY2U');
    expect(auth.nkey).toMatch(/^U[A-Z2-7]+$/);
    expect(natsSecurityOptions({ ...BASE, natsTlsCaFile: '/ca.pem' })).toEqual({ tls: { caFile: '/ca.pem' } });
    expect(natsSecurityOptions({ ...BASE, natsTlsCaFile: '/ca.pem', natsTlsCertFile: '/c.pem', natsTlsKeyFile: '/k.pem' })).toEqual({
      tls: { caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' },
    });
    expect(() => natsSecurityOptions({ ...BASE, natsToken: 't', natsNkeySeedFile: seedFile })).toThrow(/choose one/);
  });
});

describe('NATS service permissions', () => {
  it('docker/nats/nats-server.conf is what the permissions generate (regenerate it with docker/nats/generate-config.ts)', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'docker/nats/nats-server.conf'), 'utf8')).toBe(natsServerConfigFile());
  });

  it('prefixes every subject with the namespace, and never lets a service delete or purge a stream', () => {
    const permissions = natsServicePermissions('t1');
    for (const [service, p] of Object.entries(permissions)) {
      expect(p.publish.allow).toContain(`t1.hb.*.${service}.*`);
      expect(p.publish.deny).toEqual(expect.arrayContaining(['$JS.API.STREAM.DELETE.>', '$JS.API.STREAM.PURGE.>']));
      for (const subject of [...p.publish.allow, ...p.subscribe.allow]) expect(subject).toMatch(/^(t1\.|\$JS\.|\$KV\.t1_|_INBOX\.)/);
    }
    expect(permissions.metadata.publish.allow).toEqual(expect.arrayContaining(['t1.meta.>', 't1.cluster.membership', '$JS.ACK.t1_META.>']));
    expect(permissions.access.publish.allow).not.toContain('t1.meta.>');
  });
});
