import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, type ComposeService } from './compose.spec-helper';

/**
 * docker/compose.regions.yml lays out the same regions as `npm run start:regions`: the same
 * processes on the same ports per region, each region with its own NATS (JetStream domain =
 * region), Postgres and Redis, and the hub reaching every region only through the fault proxy.
 * The file is generated (tools/dev-stack/compose-regions.js); this checks it is up to date and
 * that what the generator makes matches the layout start:regions uses.
 */
interface RegionLayout {
  name: string;
  index: number;
  databaseName: string;
  nats: { port: number; monitorPort: number; leafPort: number; domain: string };
  link: { name: string; listenPort: number };
}
interface Layout {
  regions: RegionLayout[];
  hub: { clientPort: number; monitorPort: number };
  proxy: { controlPort: number };
}
interface Proc {
  name: string;
  service: string;
  env: Record<string, string>;
}
interface ComposeEntry extends ComposeService {
  readonly command?: string[];
  readonly profiles?: string[];
}

// Read as files, not imported: testing must not depend on the tools project.
const tool = (file: string) => require(path.join(REPO_ROOT, 'tools', 'dev-stack', file));
const regions = tool('regions.js') as {
  regionsLayout(o: { regions: number; root: string }): Layout;
  regionServiceProcesses(layout: Layout, region: RegionLayout): Proc[];
};
const generator = tool('compose-regions.js') as {
  composeText(): string;
  natsConfigs(): Record<string, string>;
  COMPOSE_FILE: string;
  NATS_CONFIG_DIR: string;
  COMPOSE_REGIONS: number;
  THIRD_REGION_PROFILE: string;
  CONTAINER_NATS: { client: number; leaf: number; monitor: number };
};

const composeText = readFileSync(generator.COMPOSE_FILE, 'utf8');
const doc = parse(composeText) as { services: Record<string, Omit<ComposeEntry, 'name'>> };
const compose = new Map(Object.entries(doc.services).map(([name, s]) => [name, { name, ...s } as ComposeEntry]));
const layout = regions.regionsLayout({ regions: generator.COMPOSE_REGIONS, root: '/compose' });
const natsConfig = (file: string) => readFileSync(path.join(generator.NATS_CONFIG_DIR, file), 'utf8');

describe('docker/compose.regions.yml stays in step with npm run start:regions', () => {
  it('is what the generator makes from the start:regions layout (node tools/dev-stack/compose-regions.js --write)', () => {
    expect(composeText).toBe(generator.composeText());
    for (const [file, text] of Object.entries(generator.natsConfigs())) expect(`${file}:\n${natsConfig(file)}`).toBe(`${file}:\n${text}`);
  });

  it.each(layout.regions.map((r) => [r.name, r] as const))('%s runs the same processes on the same ports, against its own NATS, Postgres and Redis', (_name, region) => {
    const local = regions.regionServiceProcesses(layout, region);
    const composed = [...compose.values()].filter((s) => s.build && s.environment?.['CAIRN_REGION'] === region.name);
    const summary = (service: string, env: Record<string, string>) => `${service}:${env['CAIRN_INSTANCE']}:${env['CAIRN_HTTP_PORT']}`;
    expect(composed.map((s) => summary(s.build!.args!['APP'], s.environment!)).sort()).toEqual(local.map((p) => summary(p.service, p.env)).sort());
    for (const s of composed) {
      const env = s.environment!;
      expect(s.ports).toEqual([`${env['CAIRN_HTTP_PORT']}:${env['CAIRN_HTTP_PORT']}`]);
      expect(env['CAIRN_NATS_URL']).toBe(`nats://nats-${region.name}:${generator.CONTAINER_NATS.client}`);
      expect(env['CAIRN_CLUSTER_SECRET']).toMatch(/^\$\{CAIRN_CLUSTER_SECRET:\?/);
      if (env['CAIRN_DATABASE_URL']) expect(env['CAIRN_DATABASE_URL']).toBe(`postgres://postgres:cairn@postgres-${region.name}:5432/${region.databaseName}`);
      if (env['CAIRN_REDIS_URL']) expect(env['CAIRN_REDIS_URL']).toBe(`redis://redis-${region.name}:6379`);
      expect(s.profiles ?? []).toEqual(region.index > 2 ? [generator.THIRD_REGION_PROFILE] : []);
    }
    expect(composed.find((s) => s.build!.args!['APP'] === 'access')?.environment?.['CAIRN_HTTP_PORT']).toBe(String(9000 + 1000 * (region.index - 1)));
    expect(compose.get(`postgres-${region.name}`)?.image).toMatch(/^postgres:/);
    expect(compose.get(`redis-${region.name}`)?.image).toMatch(/^redis:/);
  });

  it.each(layout.regions.map((r) => [r.name, r] as const))('%s has its own NATS with JetStream in its own domain, published where start:regions has it', (_name, region) => {
    const nats = compose.get(`nats-${region.name}`)!;
    expect(nats.ports).toEqual([`${region.nats.port}:${generator.CONTAINER_NATS.client}`, `${region.nats.monitorPort}:${generator.CONTAINER_NATS.monitor}`]);
    expect(nats.volumes).toContain(`./nats/regions/${region.name}.conf:/etc/nats/nats.conf:ro`);
    const config = natsConfig(`${region.name}.conf`);
    expect(config).toContain(`jetstream { store_dir: "/data", domain: "${region.nats.domain}" }`);
    // The hub is told to come back only through the proxy.
    expect(config).toContain(`advertise: "fault-proxy:${region.link.listenPort}"`);
  });

  it('joins the regions only through the fault proxy, one link per region as in start:regions', () => {
    const proxy = compose.get('fault-proxy')!;
    const command = proxy.command!.join(' ');
    expect(proxy.ports).toEqual([`127.0.0.1:${layout.proxy.controlPort}:${layout.proxy.controlPort}`]);
    const hub = natsConfig('hub.conf');
    expect(hub).not.toContain('jetstream');
    for (const region of layout.regions) {
      expect(command).toContain(`--link ${region.link.name}=0.0.0.0:${region.link.listenPort}:nats-${region.name}:${generator.CONTAINER_NATS.leaf}`);
      expect(hub).toMatch(new RegExp(`url: "nats-leaf://[^@"]+@fault-proxy:${region.link.listenPort}", hub: true, deny_imports: \\[[^\\]]*"rpc\\.>"`));
    }
    expect(compose.get('nats-hub')?.ports).toEqual([`${layout.hub.clientPort}:${generator.CONTAINER_NATS.client}`, `${layout.hub.monitorPort}:${generator.CONTAINER_NATS.monitor}`]);
  });
});
