import { BaseServiceConfig, ConfigError, loadConfig } from './config/service-config';
import type { ServiceIdentity } from './service-identity';
import { messagingConfigOf } from './service-kit.module';

const IDENTITY: ServiceIdentity = { service: 'metadata', instance: 'metadata-1', region: 'region-1', namespace: '', version: 'test' };
const BASE_ENV = { CAIRN_HTTP_PORT: '0', CAIRN_CLUSTER_SECRET: 'x'.repeat(32) };

function messagingOf(env: Record<string, string>) {
  return messagingConfigOf(IDENTITY, loadConfig(BaseServiceConfig, { ...BASE_ENV, ...env }));
}

describe('NATS credentials and TLS in the service config', () => {
  it('carries them from the environment to the NATS connection', () => {
    expect(messagingOf({ CAIRN_NATS_USER: 'metadata', CAIRN_NATS_PASSWORD: 'pw', CAIRN_NATS_TLS_CA_FILE: __filename })).toMatchObject({
      natsUser: 'metadata',
      natsPassword: 'pw',
      natsTlsCaFile: __filename,
    });
    expect(messagingOf({})).toMatchObject({ natsUser: undefined, natsToken: undefined, natsTlsCaFile: undefined });
  });

  it('stops the service at start on contradictory credentials, naming the variables and not the secrets', () => {
    const attempt = () => messagingOf({ CAIRN_NATS_USER: 'metadata', CAIRN_NATS_PASSWORD: 'hunter2-password', CAIRN_NATS_TOKEN: 'token-value-secret' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/CAIRN_NATS_USER\/CAIRN_NATS_PASSWORD and CAIRN_NATS_TOKEN are all set/);
    expect(attempt).not.toThrow(/hunter2|token-value-secret/);
    expect(() => messagingOf({ CAIRN_NATS_USER: 'metadata' })).toThrow(/CAIRN_NATS_PASSWORD is missing/);
    expect(() => messagingOf({ CAIRN_NATS_CREDS_FILE: '/nonexistent/cairn.creds' })).toThrow(/CAIRN_NATS_CREDS_FILE is "\/nonexistent\/cairn.creds": cannot be read/);
  });
});
