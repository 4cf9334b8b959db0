import { CliError, ExitCodes } from './exit-codes';
import { endpointsFromBase, resolveSettings, type ProfileFile } from './settings';

const devProfile: ProfileFile = {
  region: 'region-1',
  endpoints: { metadata: 'http://127.0.0.1:9100', storage: 'http://127.0.0.1:9201', access: 'http://127.0.0.1:9000', scheduler: 'http://127.0.0.1:9500', monitoring: 'http://127.0.0.1:9600' },
  operatorToken: 'cairn-op.v1.dev.mac',
  s3: { endpoint: 'http://127.0.0.1:9000', accessKeyId: 'ROOT', secretAccessKey: 'root-secret' },
};

describe('endpointsFromBase: a region from its S3 address and the standard port layout', () => {
  it('puts metadata at +100, sync at +300, scheduler at +500 and monitoring at +600 of the S3 port', () => {
    expect(endpointsFromBase('http://10.0.0.5:10000')).toEqual({
      access: 'http://10.0.0.5:10000',
      metadata: 'http://10.0.0.5:10100',
      sync: 'http://10.0.0.5:10300',
      scheduler: 'http://10.0.0.5:10500',
      monitoring: 'http://10.0.0.5:10600',
    });
  });

  it('takes a bare host (port 9000) or host:port, keeping the scheme of a URL', () => {
    expect(endpointsFromBase('cairn.internal').metadata).toBe('http://cairn.internal:9100');
    expect(endpointsFromBase('127.0.0.1:19000').monitoring).toBe('http://127.0.0.1:19600');
    expect(endpointsFromBase('https://s3.example.com:9000').scheduler).toBe('https://s3.example.com:9500');
  });

  it('refuses a path or another scheme as a usage error', () => {
    for (const bad of ['http://h:9000/admin', 'ftp://h:9000']) {
      expect(() => endpointsFromBase(bad)).toThrow(CliError);
      try {
        endpointsFromBase(bad);
      } catch (e) {
        expect((e as CliError).exitCode).toBe(ExitCodes.usage);
      }
    }
  });
});

describe('resolveSettings', () => {
  it('uses the npm start profile as it is, with no flags', () => {
    const s = resolveSettings({ env: {}, profile: devProfile, profilePath: '/repo/.cairn/profile.json' });
    expect(s).toMatchObject({
      region: 'region-1',
      endpoints: { access: 'http://127.0.0.1:9000', metadata: 'http://127.0.0.1:9100', scheduler: 'http://127.0.0.1:9500', monitoring: 'http://127.0.0.1:9600' },
      operatorToken: 'cairn-op.v1.dev.mac',
      s3Keys: { accessKeyId: 'ROOT', secretAccessKey: 'root-secret', signingRegion: 'us-east-1' },
    });
  });

  it('defaults to the local npm start region when there is no profile', () => {
    const s = resolveSettings({ env: {}, profile: null, profilePath: null });
    expect(s.endpoints.metadata).toBe('http://127.0.0.1:9100');
    expect(s.operatorToken).toBeNull();
    expect(s.s3Keys).toBeNull();
  });

  it('--endpoint as an address replaces the profile endpoints but keeps its credential; the environment token wins', () => {
    const s = resolveSettings({ endpoint: '127.0.0.1:10000', env: { CAIRN_OPERATOR_TOKEN: 'from-env' }, profile: devProfile, profilePath: '/p' });
    expect(s.endpoints.scheduler).toBe('http://127.0.0.1:10500');
    expect(s.region).toBeNull();
    expect(s.operatorToken).toBe('from-env');
  });

  it('--endpoint names a region of a multi-region profile, which inherits the top-level credential', () => {
    const profile: ProfileFile = { ...devProfile, regions: { 'region-2': { endpoints: { access: 'http://127.0.0.1:10000', metadata: 'http://127.0.0.1:10100' } } } };
    const s = resolveSettings({ endpoint: 'region-2', env: {}, profile, profilePath: '/p' });
    expect(s.region).toBe('region-2');
    expect(s.endpoints).toEqual({
      access: 'http://127.0.0.1:10000',
      metadata: 'http://127.0.0.1:10100',
      sync: 'http://127.0.0.1:10300',
      scheduler: 'http://127.0.0.1:10500',
      monitoring: 'http://127.0.0.1:10600',
    });
    expect(s.operatorToken).toBe(devProfile.operatorToken);
    expect(resolveSettings({ endpoint: 'region-1', env: {}, profile, profilePath: '/p' }).endpoints.metadata).toBe('http://127.0.0.1:9100');
  });

  it('an unknown region name is a usage error that lists the known ones', () => {
    expect(() => resolveSettings({ endpoint: 'region-9', env: {}, profile: devProfile, profilePath: '/p' })).toThrow(/region-1/);
  });

  it('CAIRN_<SERVICE>_URL overrides one service; S3 keys and the CA come from the environment first', () => {
    const s = resolveSettings({
      env: { CAIRN_SCHEDULER_URL: 'https://sched.internal:443/', CAIRN_ACCESS_KEY_ID: 'K', CAIRN_SECRET_ACCESS_KEY: 'S', CAIRN_S3_REGION: 'eu-1', CAIRN_CA_FILE: '/ca.pem' },
      profile: devProfile,
      profilePath: '/p',
    });
    expect(s.endpoints.scheduler).toBe('https://sched.internal:443');
    expect(s.endpoints.metadata).toBe('http://127.0.0.1:9100');
    expect(s.s3Keys).toEqual({ accessKeyId: 'K', secretAccessKey: 'S', signingRegion: 'eu-1' });
    expect(s.caFile).toBe('/ca.pem');
  });

  it("finds sync (replication lag) in the profile as npm start writes it, else at the S3 port + 300; CAIRN_SYNC_URL overrides it", () => {
    const withSync: ProfileFile = { ...devProfile, endpoints: { ...devProfile.endpoints, sync: 'http://127.0.0.1:9301/' } };
    expect(resolveSettings({ env: {}, profile: withSync, profilePath: '/p' }).endpoints.sync).toBe('http://127.0.0.1:9301');
    expect(resolveSettings({ env: {}, profile: devProfile, profilePath: '/p' }).endpoints.sync).toBe('http://127.0.0.1:9300');
    expect(resolveSettings({ endpoint: '10.0.0.5:10000', env: {}, profile: null, profilePath: null }).endpoints.sync).toBe('http://10.0.0.5:10300');
    expect(resolveSettings({ env: { CAIRN_SYNC_URL: 'https://sync.internal:9300' }, profile: withSync, profilePath: '/p' }).endpoints.sync).toBe('https://sync.internal:9300');
  });
});
