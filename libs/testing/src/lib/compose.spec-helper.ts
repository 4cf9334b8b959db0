import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, type BaseServiceConfig, type ServiceDefinition } from '@cairn/service-kit';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker/compose.yml');

export interface ComposeService {
  readonly name: string;
  readonly image?: string;
  readonly build?: { readonly args?: Record<string, string> };
  readonly environment?: Record<string, string>;
  readonly ports?: readonly string[];
  readonly volumes?: readonly string[];
}

export function readCompose(): ComposeService[] {
  const doc = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as { services: Record<string, Omit<ComposeService, 'name'>> };
  return Object.entries(doc.services).map(([name, s]) => ({ name, ...s }));
}

/**
 * No Docker engine runs here, so the compose file is checked against the code instead: every
 * container of this app gets a configuration its config class accepts, sets no variable the
 * class does not know (a typo would be silently ignored), publishes its HTTP port, and reaches
 * its dependencies by container name rather than loopback.
 */
export function describeComposeEntries<C extends BaseServiceConfig>(definition: ServiceDefinition<C>, options: { instances?: number } = {}): void {
  describe(`docker/compose.yml for ${definition.service}`, () => {
    const entries = readCompose().filter((s) => s.build?.args?.['APP'] === definition.service);

    it(`has ${options.instances ?? 1} container(s) built from this app`, () => {
      expect(entries).toHaveLength(options.instances ?? 1);
    });

    it.each(entries.map((e) => [e.name, e] as const))('%s gets a valid configuration', (_name, entry) => {
      const env = entry.environment ?? {};
      const config = loadConfig(definition.configClass, env, { CAIRN_HTTP_PORT: definition.defaultPort } as Partial<Record<keyof C, unknown>>);
      const declared = new Set(Object.keys(new definition.configClass()).concat(['CAIRN_INSTANCE', 'CAIRN_DATA_DIR']));
      const unknown = Object.keys(env).filter((k) => !declared.has(k));
      expect(unknown).toEqual([]);
      expect(entry.ports ?? []).toContain(`${config.CAIRN_HTTP_PORT}:${config.CAIRN_HTTP_PORT}`);
      for (const [key, value] of Object.entries(env)) {
        if (/_URL$/.test(key)) expect(`${key}=${value}`).not.toMatch(/127\.0\.0\.1|localhost/);
      }
    });

    it('gives every instance its own name and data volume', () => {
      const instances = entries.map((e) => e.environment?.['CAIRN_INSTANCE']);
      expect(new Set(instances).size).toBe(entries.length);
      const dataDirs = entries.filter((e) => e.environment?.['CAIRN_DATA_DIR']);
      const volumes = dataDirs.map((e) => (e.volumes ?? []).find((v) => v.endsWith(`:${e.environment!['CAIRN_DATA_DIR']}`)));
      expect(volumes.every(Boolean)).toBe(true);
      expect(new Set(volumes).size).toBe(dataDirs.length);
    });
  });
}
