import { REPLICATION_FACTOR_FIGURE, type BucketHomeView, type ControlGroupView, type Heartbeat } from '@cairn/protocol';
import type { ControlFigures, ReplicationLagFigure } from '../dashboard/dashboard-sources.port';
import type { AlertInputs, InstanceStatus } from '../domain/alert-rules';
import type { InstanceView } from '../domain/instance-view';
import type { ServiceTraffic } from './http-traffic';
import type { PromSample } from './prometheus-text';

/**
 * The region as monitoring last saw it: every instance from its heartbeats (with the failure
 * detector's verdict), traffic per service from their /metrics, metadata's projection lag, and the
 * scheduler's view of under-replicated data and scrub coverage. Alert rules are evaluated against
 * it; the dashboard shows it. `null` means "no data yet" (never scraped, or the source is away).
 */
export interface RegionFigures {
  readonly region: string;
  /** When these figures were put together. */
  readonly at: string;
  readonly instances: readonly InstanceFigures[];
  /** Per service over the rate window; null until two scrapes have been made. */
  readonly traffic: readonly ServiceTraffic[] | null;
  readonly projectionLag: readonly { readonly instance: string; readonly stream: string; readonly events: number }[] | null;
  readonly scheduler: SchedulerFigures | null;
  /** Into this region from each other region, from its sync's metrics; null while no sync reports any. */
  readonly replicationLag: readonly ReplicationLagFigure[] | null;
  /** The control group as this region's sync sees it; null while no sync has been scraped. */
  readonly control: ControlFigures | null;
}

/** An instance's verdict (as InstanceView, without the raw heartbeat) and what was read of it. */
export interface InstanceFigures extends Omit<InstanceView, 'heartbeat' | 'status'> {
  readonly status: InstanceStatus;
  readonly url: string | null;
  readonly version: string | null;
  readonly uptimeSeconds: number | null;
  readonly load: Heartbeat['load'] | null;
  /** A storage node's disk, from its heartbeat. */
  readonly disk: { readonly capacityBytes: number; readonly freeBytes: number; readonly usedRatio: number } | null;
  readonly extra: Heartbeat['extra'] | null;
  /** The last scrape of its /metrics. */
  readonly scrape: ScrapeOutcome | null;
}

export interface ScrapeOutcome {
  readonly at: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

export interface SchedulerFigures {
  /** The scheduler instance asked, and when. */
  readonly instance: string;
  readonly fetchedAt: string;
  /** Bytes the sweep found missing from ring replicas and has not copied yet (the running sweep once it works, else the last complete one); null before any sweep. */
  readonly underReplicatedBytes: number | null;
  readonly scrub: readonly { readonly node: string; readonly coveredFraction: number; readonly firstPassDone: boolean; readonly oldestVerifiedAgeSeconds: number | null }[];
  /** GET /admin/jobs as the scheduler answered it (sweep, scrub, repair queue, workers). */
  readonly jobs: unknown;
}

/** CAIRN_REPLICATION_FACTOR from a heartbeat's figures (every service reports it); null from older instances. */
export function replicationFactorOf(extra: Heartbeat['extra'] | null): number | null {
  const factor = extra?.[REPLICATION_FACTOR_FIGURE];
  return typeof factor === 'number' && Number.isInteger(factor) && factor > 0 ? factor : null;
}

export function diskOf(heartbeat: Heartbeat | null): InstanceFigures['disk'] {
  const extra = heartbeat?.extra;
  const capacityBytes = extra?.['capacityBytes'];
  const freeBytes = extra?.['freeBytes'];
  if (typeof capacityBytes !== 'number' || typeof freeBytes !== 'number' || capacityBytes <= 0) return null;
  return { capacityBytes, freeBytes, usedRatio: Math.max(0, Math.min(1, 1 - freeBytes / capacityBytes)) };
}

export function alertInputsOf(figures: RegionFigures): AlertInputs {
  return {
    instances: figures.instances.map((i) => ({ service: i.service, instance: i.instance, status: i.status, disk: i.disk, replicationFactor: replicationFactorOf(i.extra) })),
    traffic: figures.traffic,
    projectionLag: figures.projectionLag,
    underReplicatedBytes: figures.scheduler?.underReplicatedBytes ?? null,
    scrubCoverage: figures.scheduler ? figures.scheduler.scrub.map((s) => ({ node: s.node, coveredFraction: s.coveredFraction, firstPassDone: s.firstPassDone })) : null,
    replicationLag: figures.replicationLag,
  };
}

interface JobsReply {
  readonly sweep?: { readonly running?: SweepLike | null; readonly lastComplete?: SweepLike | null };
  readonly scrub?: readonly {
    readonly nodeId?: string;
    readonly previousPass?: { readonly finishedAt?: string | null } | null;
    readonly coverage?: { readonly coveredFraction?: number; readonly oldestVerifiedAgeSeconds?: number | null };
  }[];
}
interface SweepLike {
  readonly state?: string;
  readonly work?: { readonly repair?: { readonly doneBytes?: number; readonly totalBytes?: number } };
}

/** The scheduler's GET /admin/jobs reduced to what the rules need. */
export function schedulerFiguresOf(instance: string, fetchedAt: string, jobs: unknown): SchedulerFigures {
  const reply = (jobs ?? {}) as JobsReply;
  const running = reply.sweep?.running;
  const sweep = running && running.state === 'working' ? running : (reply.sweep?.lastComplete ?? null);
  const repair = sweep?.work?.repair;
  const underReplicatedBytes = repair ? Math.max(0, Number(repair.totalBytes ?? 0) - Number(repair.doneBytes ?? 0)) : null;
  const scrub = (Array.isArray(reply.scrub) ? reply.scrub : [])
    .filter((s) => typeof s.nodeId === 'string' && typeof s.coverage?.coveredFraction === 'number')
    .map((s) => ({
      node: s.nodeId as string,
      coveredFraction: s.coverage?.coveredFraction as number,
      firstPassDone: typeof s.previousPass?.finishedAt === 'string',
      oldestVerifiedAgeSeconds: s.coverage?.oldestVerifiedAgeSeconds ?? null,
    }));
  return { instance, fetchedAt, underReplicatedBytes, scrub, jobs };
}

/** What a sync instance's /metrics say about replication and the control group. */
export interface SyncMetrics {
  readonly replicationLag: readonly ReplicationLagFigure[];
  readonly control: {
    readonly leader: boolean | null;
    readonly leaseSeconds: number | null;
    readonly failovers: number | null;
    readonly regionsDown: readonly { readonly region: string; readonly down: boolean }[];
  } | null;
}

const finite = (s: PromSample | undefined): number | null => (s && Number.isFinite(s.value) ? s.value : null);

/**
 * Reads sync's replication and control-group metrics from a scrape: the lag into `region` from
 * each source (cairn_replication_lag_seconds / _pending_events / _link_up{source,target}) and the
 * control group (cairn_control_leader, _lease_seconds, _failovers, _region_down{region}). Null when
 * the scrape has none of them (not a sync).
 */
export function syncMetricsOf(samples: readonly PromSample[], region: string): SyncMetrics | null {
  const into = (name: string) => samples.filter((s) => s.name === name && s.labels['target'] === region && typeof s.labels['source'] === 'string');
  const bySource = (name: string) => new Map(into(name).map((s) => [s.labels['source'], s]));
  const lag = into('cairn_replication_lag_seconds');
  const pending = bySource('cairn_replication_pending_events');
  const linkUp = bySource('cairn_replication_link_up');
  const replicationLag = lag
    .filter((s) => Number.isFinite(s.value) && s.labels['source'] !== region)
    .map((s) => {
      const source = s.labels['source'];
      const up = finite(linkUp.get(source));
      return { region: source, lagMs: Math.max(0, s.value * 1000), pendingEvents: finite(pending.get(source)), linkUp: up === null ? null : up > 0 };
    })
    .sort((a, b) => a.region.localeCompare(b.region));
  const one = (name: string) => samples.find((s) => s.name === name && Object.keys(s.labels).length === 0);
  const leader = finite(one('cairn_control_leader'));
  const regionsDown = samples
    .filter((s) => s.name === 'cairn_control_region_down' && typeof s.labels['region'] === 'string')
    .map((s) => ({ region: s.labels['region'], down: s.value > 0 }))
    .sort((a, b) => a.region.localeCompare(b.region));
  const hasControl = leader !== null || regionsDown.length > 0;
  if (lag.length === 0 && !hasControl) return null;
  return {
    replicationLag,
    control: hasControl ? { leader: leader === null ? null : leader > 0, leaseSeconds: finite(one('cairn_control_lease_seconds')), failovers: finite(one('cairn_control_failovers')), regionsDown } : null,
  };
}

/** GET /control as sync answered it, checked for the parts the dashboard reads; null when it is not one. */
export function controlGroupOf(reply: unknown): ControlGroupView | null {
  const v = reply as Partial<ControlGroupView> | null;
  if (typeof v !== 'object' || v === null || !Array.isArray(v.buckets) || !Array.isArray(v.regions) || !Array.isArray(v.voters)) return null;
  const bucketOk = (b: Partial<BucketHomeView>) => typeof b?.bucket === 'string' && typeof b.home === 'string' && typeof b.epoch === 'number';
  if (!v.buckets.every(bucketOk)) return null;
  return v as ControlGroupView;
}

/**
 * The control group as one sync shows it: the regions from its metrics (each voter, down by
 * majority or not), with who reported them and every bucket's home and epoch from its GET /control
 * when that answered. A region only GET /control names is listed too.
 */
export function controlFiguresOf(
  instance: string,
  metrics: SyncMetrics['control'],
  group: { readonly fetchedAt: string; readonly view: ControlGroupView } | null,
  groupError: string | null,
): ControlFigures | null {
  if (!metrics && !group) return null;
  const fromGroup = new Map((group?.view.regions ?? []).map((r) => [r.region, r]));
  const names = [...new Set([...(metrics?.regionsDown ?? []).map((r) => r.region), ...fromGroup.keys()])].sort();
  const downByMetrics = new Map((metrics?.regionsDown ?? []).map((r) => [r.region, r.down]));
  return {
    instance,
    leader: metrics?.leader ?? (group ? group.view.leader === group.view.region : null),
    leaseSeconds: metrics?.leaseSeconds ?? (group ? group.view.leaseRemainingMs / 1000 : null),
    failovers: metrics?.failovers ?? null,
    regions: names.map((region) => ({ region, down: downByMetrics.get(region) ?? fromGroup.get(region)?.down ?? false, reportedDownBy: fromGroup.get(region)?.reportedDownBy ?? null })),
    group: group
      ? {
          fetchedAt: group.fetchedAt,
          role: group.view.role,
          leader: group.view.leader,
          term: group.view.term,
          voters: group.view.voters,
          buckets: group.view.buckets,
        }
      : null,
    groupError,
  };
}
