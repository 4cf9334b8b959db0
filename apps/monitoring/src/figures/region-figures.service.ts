import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ClusterCredentials, internalTlsTrust, SERVICE_CONFIG, SERVICE_IDENTITY, WorkerRegistry, IntervalWorker, type ServiceIdentity } from '@cairn/service-kit';
import { Agent, request, type Dispatcher } from 'undici';
import { HeartbeatWatcher, type InstanceView } from '../health-watch/heartbeat-watcher.service';
import type { MonitoringConfig } from '../monitoring.config';
import { httpSnapshotOf, serviceTraffic, type HttpSnapshot } from './http-traffic';
import { parsePrometheusText, SCRAPE_MAX_BYTES } from './prometheus-text';
import type { ControlGroupView } from '@cairn/protocol';
import type { ReplicationLagFigure } from '../dashboard/dashboard-sources.port';
import {
  controlFiguresOf,
  controlGroupOf,
  diskOf,
  schedulerFiguresOf,
  syncMetricsOf,
  type InstanceFigures,
  type RegionFigures,
  type SchedulerFigures,
  type ScrapeOutcome,
  type SyncMetrics,
} from './region-figures';

/** Scrapes in flight at once. */
export const SCRAPE_CONCURRENCY = 8;
/** A scrape (or the scheduler's jobs) that takes longer is given up. */
export const SCRAPE_TIMEOUT_MS = 4_000;
/** Snapshots kept per instance, whatever the window. */
const SNAPSHOTS_MAX = 1_000;
const JOBS_MAX_BYTES = 8 * 1024 * 1024;
/** GET /control on sync: the group with every active-passive bucket's home. */
const CONTROL_MAX_BYTES = 8 * 1024 * 1024;
const PROJECTION_LAG_METRIC = 'cairn_metadata_projection_lag_events';

interface Scraped {
  readonly service: string;
  snapshots: HttpSnapshot[];
  outcome: ScrapeOutcome | null;
  projectionLag: { stream: string; events: number }[] | null;
  /** A sync's replication and control-group metrics. */
  sync: SyncMetrics | null;
}

async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new Error(`answer larger than ${maxBytes} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Keeps RegionFigures current: every CAIRN_FIGURES_SCRAPE_INTERVAL_MS it scrapes the /metrics of
 * every instance not declared down (at the URL its heartbeat gives, signed as this service) and
 * asks one live scheduler for its jobs. Heartbeat-borne figures (status, disk, load) are read
 * fresh from the failure detector whenever the figures are asked for.
 */
@Injectable()
export class RegionFiguresService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RegionFigures');
  private readonly dispatcher: Dispatcher;
  private readonly agent: Agent;
  private readonly scraped = new Map<string, Scraped>();
  private scheduler: SchedulerFigures | null = null;
  /** The last GET /control of a live sync, or why there is none. */
  private controlGroup: { readonly instance: string; readonly fetchedAt: string; readonly view: ControlGroupView } | null = null;
  private controlGroupError: string | null = null;
  private readonly worker: IntervalWorker;

  constructor(
    private readonly watcher: HeartbeatWatcher,
    private readonly workers: WorkerRegistry,
    credentials: ClusterCredentials,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
  ) {
    const tls = internalTlsTrust(config);
    this.agent = new Agent({ connections: 4, headersTimeout: SCRAPE_TIMEOUT_MS, bodyTimeout: SCRAPE_TIMEOUT_MS, ...(tls ? { connect: { ca: tls.ca } } : {}) });
    this.dispatcher = this.agent.compose(credentials.httpInterceptor());
    this.worker = new IntervalWorker('region-figures', config.CAIRN_FIGURES_SCRAPE_INTERVAL_MS, (signal) => this.refresh(signal), { runImmediately: true, logger: this.logger });
  }

  onApplicationBootstrap(): void {
    this.workers.register(this.worker);
    this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
    this.workers.unregister(this.worker.name);
    await this.agent.close();
  }

  /** The dashboard's figures source (DashboardFiguresSource). */
  figures(): RegionFigures {
    return this.current();
  }

  /** The figures now: heartbeat-borne ones read fresh, scraped ones as last scraped. */
  current(nowMs = Date.now()): RegionFigures {
    const views = this.watcher.instances(nowMs);
    const instances = views.map((v) => this.instanceFigures(v));
    const live = new Set(views.map(keyOf));
    const history = [...this.scraped].filter(([key]) => live.has(key)).map(([, s]) => s);
    const withTwo = history.filter((s) => s.snapshots.length >= 2);
    const metadata = [...this.scraped].filter(([key, s]) => live.has(key) && s.projectionLag !== null);
    const syncs = [...this.scraped].filter(([key, s]) => live.has(key) && s.sync !== null).sort(([a], [b]) => a.localeCompare(b));
    return {
      region: this.identity.region,
      at: new Date(nowMs).toISOString(),
      instances,
      traffic: withTwo.length > 0 ? serviceTraffic(history) : null,
      projectionLag: metadata.length > 0 ? metadata.flatMap(([key, s]) => (s.projectionLag ?? []).map((l) => ({ instance: key.split('/')[2], ...l }))) : null,
      scheduler: this.scheduler,
      replicationLag: replicationLagOf(syncs.map(([, s]) => s.sync!)),
      control: this.controlFigures(syncs),
    };
  }

  /** From the first live sync by name (one runs per region), with its GET /control when that is its own. */
  private controlFigures(syncs: readonly (readonly [string, Scraped])[]) {
    const first = syncs.find(([, s]) => s.sync?.control);
    const instance = first ? first[0].split('/')[2] : (this.controlGroup?.instance ?? null);
    if (instance === null) return null;
    const group = this.controlGroup && this.controlGroup.instance === instance ? this.controlGroup : null;
    return controlFiguresOf(instance, first?.[1].sync?.control ?? null, group, this.controlGroupError);
  }

  private instanceFigures(v: InstanceView): InstanceFigures {
    const hb = v.heartbeat;
    return {
      region: v.region,
      service: v.service,
      instance: v.instance,
      status: v.status,
      phi: v.phi,
      lastHeartbeatAt: v.lastHeartbeatAt,
      url: hb?.url ?? null,
      version: hb?.version ?? null,
      uptimeSeconds: hb?.uptimeSeconds ?? null,
      load: hb?.load ?? null,
      disk: diskOf(hb),
      extra: hb?.extra ?? null,
      scrape: this.scraped.get(keyOf(v))?.outcome ?? null,
    };
  }

  private async refresh(signal: AbortSignal) {
    const nowMs = Date.now();
    const views = this.watcher.instances(nowMs);
    const targets = views.filter((v) => v.status !== 'down' && v.heartbeat?.url);
    const keys = new Set(views.map(keyOf));
    for (const key of this.scraped.keys()) if (!keys.has(key)) this.scraped.delete(key);
    let next = 0;
    const worker = async () => {
      while (next < targets.length && !signal.aborted) await this.scrape(targets[next++], signal);
    };
    await Promise.all(Array.from({ length: Math.min(SCRAPE_CONCURRENCY, targets.length) }, worker));
    await Promise.all([this.askScheduler(views, signal), this.askSync(views, signal)]);
    return { doneItems: targets.filter((t) => this.scraped.get(keyOf(t))?.outcome?.ok).length, totalItems: targets.length, detail: 'instances scraped' };
  }

  private async scrape(view: InstanceView, signal: AbortSignal): Promise<void> {
    const key = keyOf(view);
    const entry = this.scraped.get(key) ?? { service: view.service, snapshots: [], outcome: null, projectionLag: null, sync: null };
    this.scraped.set(key, entry);
    const startedMs = Date.now();
    try {
      const text = await this.get(`${view.heartbeat?.url}/metrics`, SCRAPE_MAX_BYTES, signal);
      const atMs = Date.now();
      const { samples } = parsePrometheusText(text);
      entry.snapshots.push(httpSnapshotOf(samples, atMs));
      // Keep the window and one snapshot older than it, so the difference spans the whole window.
      const cutoff = atMs - this.config.CAIRN_FIGURES_RATE_WINDOW_MS;
      while (entry.snapshots.length > 2 && (entry.snapshots[1].atMs <= cutoff || entry.snapshots.length > SNAPSHOTS_MAX)) entry.snapshots.shift();
      const lag = samples.filter((s) => s.name === PROJECTION_LAG_METRIC && Number.isFinite(s.value));
      entry.projectionLag = lag.length > 0 ? lag.map((s) => ({ stream: s.labels['stream'] ?? '', events: s.value })) : null;
      entry.sync = view.service === 'sync' ? syncMetricsOf(samples, view.region) : null;
      entry.outcome = { at: new Date(atMs).toISOString(), ok: true, durationMs: atMs - startedMs };
    } catch (error) {
      entry.outcome = { at: new Date().toISOString(), ok: false, durationMs: Date.now() - startedMs, error: (error as Error).message };
    }
  }

  /** GET /admin/jobs of the first live scheduler that answers. */
  private async askScheduler(views: readonly InstanceView[], signal: AbortSignal): Promise<void> {
    const schedulers = views.filter((v) => v.service === 'scheduler' && v.status !== 'down' && v.heartbeat?.url);
    for (const s of schedulers) {
      try {
        const jobs = JSON.parse(await this.get(`${s.heartbeat?.url}/admin/jobs`, JOBS_MAX_BYTES, signal)) as unknown;
        this.scheduler = schedulerFiguresOf(s.instance, new Date().toISOString(), jobs);
        return;
      } catch (error) {
        this.logger.debug(`scheduler ${s.instance}: ${(error as Error).message}`);
      }
    }
    // None answers: what was known goes stale rather than wrong.
    if (schedulers.length === 0) this.scheduler = null;
  }

  /** GET /control of the first live sync (by instance name, as controlFigures picks it). */
  private async askSync(views: readonly InstanceView[], signal: AbortSignal): Promise<void> {
    const sync = views
      .filter((v) => v.service === 'sync' && v.region === this.identity.region && v.status !== 'down' && v.heartbeat?.url)
      .sort((a, b) => keyOf(a).localeCompare(keyOf(b)))[0];
    if (!sync) {
      this.controlGroup = null;
      this.controlGroupError = 'no live sync in this region';
      return;
    }
    try {
      const view = controlGroupOf(JSON.parse(await this.get(`${sync.heartbeat?.url}/control`, CONTROL_MAX_BYTES, signal)) as unknown);
      if (!view) throw new Error('GET /control answered something that is not the control group');
      this.controlGroup = { instance: sync.instance, fetchedAt: new Date().toISOString(), view };
      this.controlGroupError = null;
    } catch (error) {
      // What was known goes stale rather than wrong: the page shows when it was read.
      this.controlGroupError = `GET /control on ${sync.instance}: ${(error as Error).message}`;
      if (this.controlGroup?.instance !== sync.instance) this.controlGroup = null;
    }
  }

  private async get(url: string, maxBytes: number, signal: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(SCRAPE_TIMEOUT_MS);
    const res = await request(url, { dispatcher: this.dispatcher, signal: AbortSignal.any([signal, timeout]) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`GET ${new URL(url).pathname} answered ${res.statusCode}`);
    }
    return readCapped(res.body, maxBytes);
  }
}

/** Lag per source region over this region's syncs (normally one): the worst of them. */
function replicationLagOf(syncs: readonly SyncMetrics[]): ReplicationLagFigure[] | null {
  const bySource = new Map<string, ReplicationLagFigure>();
  for (const l of syncs.flatMap((s) => s.replicationLag)) {
    const seen = bySource.get(l.region);
    if (!seen || l.lagMs > seen.lagMs) bySource.set(l.region, l);
  }
  return bySource.size > 0 ? [...bySource.values()].sort((a, b) => a.region.localeCompare(b.region)) : null;
}

function keyOf(v: { region: string; service: string; instance: string }): string {
  return `${v.region}/${v.service}/${v.instance}`;
}
