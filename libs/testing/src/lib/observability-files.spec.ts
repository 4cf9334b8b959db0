import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { readCompose, REPO_ROOT } from './compose.spec-helper';

const PROMETHEUS_FILE = path.join(REPO_ROOT, 'docker/prometheus.yml');
const DASHBOARD_FILE = path.join(REPO_ROOT, 'docker/grafana/cairn-dashboard.json');
const TOKEN_FILE = '/etc/prometheus/cairn-token';
/** Series Prometheus makes itself, not any Cairn service. */
const PROMETHEUS_BUILTIN_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
const HISTOGRAM_SUFFIX = /_(bucket|count|sum)$/;

interface ScrapeConfig {
  readonly job_name: string;
  readonly metrics_path?: string;
  readonly honor_labels?: boolean;
  readonly authorization?: { readonly type?: string; readonly credentials_file?: string; readonly credentials?: string };
  readonly static_configs?: readonly { readonly targets: readonly string[] }[];
}

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: readonly { readonly expr: string }[];
  readonly panels?: readonly Panel[];
}

function scrapeConfigs(): ScrapeConfig[] {
  return (parse(readFileSync(PROMETHEUS_FILE, 'utf8')) as { scrape_configs: ScrapeConfig[] }).scrape_configs;
}

/** Every TypeScript source under apps/ and libs/ except tests: where metrics are registered by name. */
function sourceText(): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules') continue;
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (full.endsWith('.ts') && !full.endsWith('.spec.ts') && !full.includes('spec-helper')) texts.push(readFileSync(full, 'utf8'));
    }
  };
  walk(path.join(REPO_ROOT, 'apps'));
  walk(path.join(REPO_ROOT, 'libs'));
  return texts.join('\n');
}

/** The metric names a PromQL expression selects: every selector in these files carries a `{…}` matcher. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1]);
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

describe('docker/prometheus.yml stays in step with docker/compose.yml', () => {
  it('scrapes every Cairn service container on its HTTP port, and nothing else', () => {
    const composed = readCompose()
      .filter((s) => s.build)
      .map((s) => `${s.name}:${s.environment!['CAIRN_HTTP_PORT']}`)
      .sort();
    const scraped = scrapeConfigs()
      .flatMap((c) => (c.static_configs ?? []).flatMap((s) => s.targets))
      .sort();
    expect(scraped).toEqual(composed);
  });

  it('names each job after the app its targets run', () => {
    const appOf = new Map(readCompose().filter((s) => s.build).map((s) => [s.name, s.build!.args!['APP']]));
    for (const config of scrapeConfigs()) {
      for (const target of (config.static_configs ?? []).flatMap((s) => s.targets)) {
        expect(`${target} in job ${config.job_name}`).toBe(`${target} in job ${appOf.get(target.split(':')[0])}`);
      }
    }
  });

  it('scrapes /metrics with the operator token from a file, keeping the services’ own labels', () => {
    for (const config of scrapeConfigs()) {
      expect({ job: config.job_name, path: config.metrics_path ?? '/metrics', honor: config.honor_labels, auth: config.authorization }).toEqual({
        job: config.job_name,
        path: '/metrics',
        honor: true,
        auth: { type: 'Bearer', credentials_file: TOKEN_FILE },
      });
    }
  });
});

describe('docker/grafana/cairn-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { query?: unknown }[] } };
  const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');

  it('parses, and has the panels the issue asks for', () => {
    expect(dashboard.uid).toBe('cairn-region');
    const titles = panels.map((p) => p.title).join('\n');
    for (const wanted of [/S3 request rate by operation/, /S3 p99 latency by operation/, /S3 errors/, /Storage used and capacity/, /Projection lag/, /Scheduler jobs/]) {
      expect(titles).toMatch(wanted);
    }
  });

  it('queries only metrics some service registers (by name, in code)', () => {
    const code = sourceText();
    const expressions = [
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => JSON.stringify(v.query ?? '')),
    ];
    const names = new Set(expressions.flatMap(metricsIn));
    expect(names.size).toBeGreaterThan(5);
    const unknown = [...names].filter((name) => !PROMETHEUS_BUILTIN_SERIES.has(name) && !code.includes(`'${name.replace(HISTOGRAM_SUFFIX, '')}'`));
    expect(unknown).toEqual([]);
  });

  it('gives every panel a query', () => {
    for (const p of panels) expect(`${p.title}: ${(p.targets ?? []).length}`).toMatch(/: [1-9]/);
  });
});
