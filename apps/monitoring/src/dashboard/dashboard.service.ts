import { Inject, Injectable, Optional } from '@nestjs/common';
import { RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, SCHEDULER_SERVICE, SchedulerRpc, type JobsSummaryReply, type ListNodesReply } from '@cairn/protocol';
import { SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { HeartbeatWatcher } from '../health-watch/heartbeat-watcher.service';
import type { MonitoringConfig } from '../monitoring.config';
import {
  DASHBOARD_ALERTS,
  DASHBOARD_DRILLS,
  DASHBOARD_FIGURES,
  type DashboardAlerts,
  type DashboardAlertsSource,
  type DashboardDrills,
  type DashboardDrillsSource,
  type DashboardFigures,
  type DashboardFiguresSource,
} from './dashboard-sources.port';
import { controlPanel, DashboardHistory, drillRows, historyPoint, instanceRows, nodeRows, regionSummaries, type DashboardView, type Unavailable } from './dashboard.view';

/** A source that has not answered by then is shown as unavailable for this sample. */
export const DASHBOARD_SOURCE_TIMEOUT_MS = 1_500;

type Fetched<T> = { readonly ok: true; readonly value: T; readonly at: string } | { readonly ok: false; readonly reason: string };

interface Sample {
  readonly atMs: number;
  readonly members: Fetched<ListNodesReply>;
  readonly jobs: Fetched<JobsSummaryReply>;
  readonly figures: Fetched<DashboardFigures>;
  readonly alerts: Fetched<DashboardAlerts>;
  readonly drills: Fetched<DashboardDrills>;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function fetched<T>(read: () => T | Promise<T>, timeoutMs: number): Promise<Fetched<T>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      Promise.resolve().then(read),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, value, at: new Date().toISOString() };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

const unavailable = (reason: string): Unavailable => ({ available: false, reason });

/**
 * Gathers the dashboard's data: instance health from this process's failure detector (read live
 * at every request, so a node going down shows at the next poll), storage membership from
 * metadata, jobs from the scheduler (both over NATS RPC), and the figures and alerts of
 * monitoring's other parts when they are wired in. The remote sources are read at most once per
 * DASHBOARD_SAMPLE_INTERVAL_MS, and only while someone reads the dashboard; each read adds a
 * point to the rolling chart history.
 */
@Injectable()
export class DashboardService {
  private readonly history = new DashboardHistory();
  private sample: Sample | null = null;
  private sampling: Promise<void> | null = null;

  constructor(
    private readonly watcher: HeartbeatWatcher,
    private readonly rpc: RpcClient,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
    @Optional() @Inject(DASHBOARD_FIGURES) private readonly figuresSource?: DashboardFiguresSource,
    @Optional() @Inject(DASHBOARD_ALERTS) private readonly alertsSource?: DashboardAlertsSource,
    @Optional() @Inject(DASHBOARD_DRILLS) private readonly drillsSource?: DashboardDrillsSource,
  ) {}

  async view(sinceMs?: number): Promise<DashboardView> {
    await this.refresh(Date.now());
    const sample = this.sample!;
    const nowMs = Date.now();
    const watched = this.watcher.instances(nowMs);
    const figures = sample.figures.ok ? sample.figures.value : null;
    const { members, jobs, alerts, drills } = sample;
    return {
      generatedAt: new Date(nowMs).toISOString(),
      region: this.identity.region,
      monitoring: {
        instance: this.identity.instance,
        leader: this.watcher.leading,
        suspectAfterMs: this.config.CAIRN_FAILURE_SUSPECT_AFTER_MS,
        downAfterMs: this.config.CAIRN_FAILURE_DOWN_AFTER_MS,
      },
      regions: regionSummaries(this.identity.region, watched, figures?.replicationLag ?? null, figures?.control ?? null),
      nodes: {
        ...(members.ok ? { available: true as const, at: members.at, ringEpoch: members.value.epoch } : unavailable(`membership from metadata: ${members.reason}`)),
        items: nodeRows(members.ok ? members.value.nodes : null, watched),
      },
      instances: instanceRows(watched),
      alerts: alerts.ok ? { available: true, at: alerts.at, ...alerts.value } : unavailable(alerts.reason),
      jobs: jobs.ok
        ? { available: true, at: jobs.at, instance: jobs.value.instance, items: jobs.value.jobs, repairQueue: jobs.value.repairQueue }
        : unavailable(`jobs from the scheduler: ${jobs.reason}`),
      traffic: !sample.figures.ok
        ? unavailable(sample.figures.reason)
        : figures?.traffic
          ? { available: true, at: sample.figures.at, services: figures.traffic }
          : unavailable('no traffic figures yet (they need two scrapes of the services’ metrics)'),
      lag: {
        projection: !sample.figures.ok
          ? unavailable(sample.figures.reason)
          : figures?.projectionLag
            ? { available: true, at: sample.figures.at, streams: figures.projectionLag }
            : unavailable('no projection lag figures yet'),
        replication: !sample.figures.ok
          ? unavailable(sample.figures.reason)
          : figures?.replicationLag && figures.replicationLag.length > 0
            ? { available: true, at: sample.figures.at, regions: figures.replicationLag }
            : unavailable('no regions yet: no sync in this region reports replication from another'),
      },
      control: !sample.figures.ok
        ? unavailable(sample.figures.reason)
        : figures?.control
          ? { available: true, at: sample.figures.at, ...controlPanel(figures.control) }
          : unavailable('no sync in this region has been read yet (the control group runs in sync)'),
      drills: drills.ok ? { available: true, at: drills.at, total: drills.value.total, items: drillRows(drills.value.reports) } : unavailable(`drill reports from CLUSTER: ${drills.reason}`),
      history: { intervalMs: this.history.intervalMs, points: this.history.since(sinceMs) },
    };
  }

  /** Reads the remote sources unless a sample is fresh enough; concurrent readers share one read. */
  private refresh(nowMs: number): Promise<void> {
    if (this.sampling) return this.sampling;
    if (this.sample && nowMs - this.sample.atMs < this.history.intervalMs) return Promise.resolve();
    this.sampling = this.take(nowMs).finally(() => {
      this.sampling = null;
    });
    return this.sampling;
  }

  private async take(nowMs: number): Promise<void> {
    const timeoutMs = DASHBOARD_SOURCE_TIMEOUT_MS;
    const figuresSource = this.figuresSource;
    const alertsSource = this.alertsSource;
    const drillsSource = this.drillsSource;
    const [members, jobs, figures, alerts, drills] = await Promise.all([
      fetched(() => this.rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}, { timeoutMs }), timeoutMs),
      fetched(() => this.rpc.request<JobsSummaryReply>(SCHEDULER_SERVICE, SchedulerRpc.jobsSummary, {}, { timeoutMs }), timeoutMs),
      figuresSource
        ? fetched(() => figuresSource.figures(), timeoutMs)
        : Promise.resolve<Fetched<DashboardFigures>>({ ok: false, reason: 'metrics scraping is not running in this monitoring instance' }),
      alertsSource ? fetched(() => alertsSource.alerts(), timeoutMs) : Promise.resolve<Fetched<DashboardAlerts>>({ ok: false, reason: 'alert rules are not evaluated by this monitoring instance' }),
      drillsSource ? fetched(() => drillsSource.drills(), timeoutMs) : Promise.resolve<Fetched<DashboardDrills>>({ ok: false, reason: 'drill reports are not read by this monitoring instance' }),
    ]);
    this.sample = { atMs: nowMs, members, jobs, figures, alerts, drills };
    this.history.add(historyPoint(nowMs, figures.ok ? figures.value.traffic : null, jobs.ok ? jobs.value.jobs : null, this.watcher.instances(nowMs)));
  }
}
