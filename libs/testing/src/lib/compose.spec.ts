import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCompose, REPO_ROOT } from './compose.spec-helper';

// Read as a file, not imported as a module: testing must not depend on the tools project, which
// depends on the apps whose specs depend on testing.
const { regionProcesses } = require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'stack.js')) as {
  regionProcesses: (o: { dataRoot: string }) => { service: string; env: Record<string, string> }[];
};

// The services (a service definition in src/service.ts); apps/cli is a client and runs nowhere.
const apps = readdirSync(path.join(REPO_ROOT, 'apps')).filter((d) => existsSync(path.join(REPO_ROOT, 'apps', d, 'src/service.ts')));

describe('deployment files stay in step with the apps', () => {
  it('finds all seven services', () => {
    expect(apps.sort()).toEqual(['access', 'lock-manager', 'metadata', 'monitoring', 'scheduler', 'storage', 'sync']);
  });

  it.each(apps)('compose runs %s from the one Dockerfile', (app) => {
    const services = readCompose().filter((s) => s.build?.args?.['APP'] === app);
    expect(services.length).toBeGreaterThan(0);
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/apps\/\$\{CAIRN_APP\}\/src\/main\.ts/);
  });

  it('runs NATS with JetStream, Postgres and Redis beside the services', () => {
    const byName = new Map(readCompose().map((s) => [s.name, s]));
    expect(String((byName.get('nats') as { command?: string[] }).command)).toContain('-js');
    expect(byName.get('postgres')?.image).toMatch(/^postgres:/);
    expect(byName.get('redis')?.image).toMatch(/^redis:/);
  });

  it('starts the same processes in `npm start` as in compose, on the same ports', () => {
    const local = regionProcesses({ dataRoot: '/tmp/x' }).map((p) => `${p.service}:${p.env['CAIRN_HTTP_PORT']}`).sort();
    const composed = readCompose()
      .filter((s) => s.build)
      .map((s) => `${s.build!.args!['APP']}:${s.environment!['CAIRN_HTTP_PORT']}`)
      .sort();
    expect(composed).toEqual(local);
  });

  it('gives every service the one cluster secret from the environment, never a literal one', () => {
    for (const service of readCompose().filter((s) => s.build)) {
      expect(`${service.name}: ${service.environment?.['CAIRN_CLUSTER_SECRET']}`).toMatch(new RegExp(`^${service.name}: \\$\\{CAIRN_CLUSTER_SECRET:\\?`));
    }
  });

  it('lets every nats-server Cairn configures take messages of max_payload 8MB (the events of a very large object)', () => {
    const { NATS_MAX_PAYLOAD_SETTING } = require(path.join(REPO_ROOT, 'libs', 'messaging', 'src', 'lib', 'nats-auth-permissions.ts')) as { NATS_MAX_PAYLOAD_SETTING: string };
    expect(NATS_MAX_PAYLOAD_SETTING).toBe('max_payload: 8MB');
    const configs = ['docker/nats/nats-server.conf', ...readdirSync(path.join(REPO_ROOT, 'docker/nats/regions')).map((f) => `docker/nats/regions/${f}`)];
    for (const config of configs) expect(`${config}: ${readFileSync(path.join(REPO_ROOT, config), 'utf8')}`).toContain(`\n${NATS_MAX_PAYLOAD_SETTING}\n`);
    // npm start / the test setup (local-services.js) and npm run start:regions (regions.js).
    expect((require(path.join(REPO_ROOT, 'tools', 'services', 'local-services.js')) as { NATS_MAX_PAYLOAD_SETTING: string }).NATS_MAX_PAYLOAD_SETTING).toBe(NATS_MAX_PAYLOAD_SETTING);
    expect((require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'regions.js')) as { MAX_PAYLOAD_SETTING: string }).MAX_PAYLOAD_SETTING).toBe(NATS_MAX_PAYLOAD_SETTING);
  });

  it('runs NATS with one user per service and logs each service in as its own user', () => {
    const composed = readCompose();
    const nats = composed.find((s) => s.name === 'nats') as { command?: string[]; volumes?: string[]; environment?: Record<string, string> };
    expect(nats.command).toEqual(expect.arrayContaining(['-c', '/etc/nats/nats-server.conf', '-js']));
    expect(nats.volumes).toContain('./nats/nats-server.conf:/etc/nats/nats-server.conf:ro');
    const conf = readFileSync(path.join(REPO_ROOT, 'docker/nats/nats-server.conf'), 'utf8');
    const { composeEnv, passwordVariable } = require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'compose-env.js')) as {
      composeEnv: () => string;
      passwordVariable: (user: string) => string;
    };
    const generated = new Set(composeEnv().split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]));
    for (const service of composed.filter((s) => s.build)) {
      const app = service.build!.args!['APP'];
      const variable = passwordVariable(app);
      expect(`${service.name}: ${service.environment?.['CAIRN_NATS_USER']}`).toBe(`${service.name}: ${app}`);
      expect(service.environment?.['CAIRN_NATS_PASSWORD']).toMatch(new RegExp(`^\\$\\{${variable}:\\?`));
      expect(nats.environment?.[variable]).toMatch(new RegExp(`^\\$\\{${variable}:\\?`));
      expect(conf).toContain(`user: "${app}", password: $${variable}`);
      expect(generated.has(variable)).toBe(true);
    }
    expect(generated.has('CAIRN_CLUSTER_SECRET')).toBe(true);
  });

  it('gives every service of the region the one replication factor (the gateway writes it, metadata and the scheduler repair to it)', () => {
    const factors = new Set(readCompose().filter((s) => s.build).map((s) => s.environment?.['CAIRN_REPLICATION_FACTOR']));
    expect([...factors]).toEqual(['3']);
  });
});
