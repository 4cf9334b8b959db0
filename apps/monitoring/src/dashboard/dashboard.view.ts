import type { Heartbeat, JobProgressView, JobsSummaryReply, StorageNodeView } from '@cairn/protocol';
import type { InstanceView } from '../domain/instance-view';
import type { InstanceStatus } from '../domain/phi-accrual.detector';
import type { DashboardAlerts, DashboardFigures, DashboardTraffic } from './dashboard-sources.port';

/**
 * The dashboard's data (GET /api/dashboard): one JSON document per poll with everything the page
 * draws. Built here from plain inputs, so the rules (which node is which instance, what a chart
 * point holds, how much history is kept) are tested without a region.
 */

/** Chart points kept: at one point per DASHBOARD_SAMPLE_INTERVAL_MS, ten minutes. */
export const DASHBOARD_HISTORY_POINTS_MAX = 600;
/** The dashboard's sources are read at most this often, however many pages poll. */
export const DASHBOARD_SAMPLE_INTERVAL_MS = 1_000;

/** An instance as the failure detector sees it (HeartbeatWatcher.instances()). */
export type WatchedInstance = InstanceView;

export type NodeHealth = InstanceStatus | 'unknown';

export interface NodeRow {
  readonly nodeId: string;
  /** From membership; null for a storage instance that sends heartbeats but is not (yet) in the ring. */
  readonly zone: string | null;
  readonly host: string | null;
  readonly address: string | null;
  readonly weight: number | null;
  readonly draining: boolean;
  readonly member: boolean;
  /** The failure detector's verdict; unknown when monitoring has never heard the node. */
  readonly health: NodeHealth;
  readonly phi: number | null;
  readonly lastHeartbeatAt: string | null;
  readonly capacityBytes: number | null;
  readonly freeBytes: number | null;
  readonly usedFraction: number | null;
  readonly chunkCount: number | null;
}

export interface InstanceRow {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  readonly status: InstanceStatus;
  readonly phi: number | null;
  readonly lastHeartbeatAt: string | null;
  readonly version: string | null;
  readonly uptimeSeconds: number | null;
  readonly rssBytes: number | null;
  readonly eventLoopLagMs: number | null;
  readonly inFlightRequests: number | null;
}

export interface RegionSummary {
  readonly region: string;
  /** The region this monitoring instance belongs to. */
  readonly local: boolean;
  readonly instances: Readonly<Record<InstanceStatus, number>>;
  readonly replicationLagMs: number | null;
}

/** One sample for the rolling charts: each series keyed by service (or job kind). */
export interface HistoryPoint {
  readonly atMs: number;
  readonly requestsPerSecond: Readonly<Record<string, number>>;
  readonly p99Ms: Readonly<Record<string, number>>;
  /** Bytes per second the running jobs move (repair, rebalance, gc) or verify (scrub). */
  readonly jobBytesPerSecond: Readonly<Record<string, number>>;
  /** Highest event-loop lag among a service's instances, from their heartbeats. */
  readonly eventLoopLagMs: Readonly<Record<string, number>>;
}

/** A part fed by another service or another part of monitoring: its data, or why there is none. */
export type Sourced<T> = { readonly available: true; readonly at: string } & T;
export type Unavailable = { readonly available: false; readonly reason: string };

export interface DashboardView {
  readonly generatedAt: string;
  readonly region: string;
  readonly monitoring: { readonly instance: string; readonly leader: boolean; readonly suspectAfterMs: number; readonly downAfterMs: number };
  readonly regions: readonly RegionSummary[];
  readonly nodes: (Sourced<{ readonly ringEpoch: number }> | Unavailable) & { readonly items: readonly NodeRow[] };
  readonly instances: readonly InstanceRow[];
  readonly alerts: Sourced<DashboardAlerts> | Unavailable;
  readonly jobs: Sourced<{ readonly instance: string; readonly items: readonly JobProgressView[]; readonly repairQueue: JobsSummaryReply['repairQueue'] }> | Unavailable;
  readonly traffic: Sourced<{ readonly services: readonly DashboardTraffic[] }> | Unavailable;
  readonly lag: {
    readonly projection: Sourced<{ readonly streams: NonNullable<DashboardFigures['projectionLag']> }> | Unavailable;
    readonly replication: Sourced<{ readonly regions: NonNullable<DashboardFigures['replicationLag']> }> | Unavailable;
  };
  readonly history: { readonly intervalMs: number; readonly points: readonly HistoryPoint[] };
}

const finiteOrNull = (n: number | undefined | null): number | null => (typeof n === 'number' && Number.isFinite(n) ? n : null);

function figure(hb: Heartbeat | null, name: string): number | null {
  const v = hb?.extra?.[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Storage nodes: every ring member (from metadata's membership) with the health of the storage
 * instance of the same id, then storage instances heard that are not members.
 */
export function nodeRows(members: readonly StorageNodeView[] | null, instances: readonly WatchedInstance[]): NodeRow[] {
  const storage = new Map(instances.filter((i) => i.service === 'storage').map((i) => [i.instance, i]));
  const row = (nodeId: string, member: StorageNodeView | null, watched: WatchedInstance | undefined): NodeRow => {
    const hb = watched?.heartbeat ?? null;
    const capacity = figure(hb, 'capacityBytes') ?? (member && member.capacityBytes > 0 ? member.capacityBytes : null);
    const free = figure(hb, 'freeBytes');
    return {
      nodeId,
      zone: member?.zone ?? null,
      host: member?.host ?? null,
      address: member?.address ?? null,
      weight: member?.weight ?? null,
      draining: member?.draining ?? false,
      member: member !== null,
      health: watched?.status ?? 'unknown',
      phi: watched ? finiteOrNull(watched.phi) : null,
      lastHeartbeatAt: watched?.lastHeartbeatAt ?? null,
      capacityBytes: capacity,
      freeBytes: free,
      usedFraction: capacity && free !== null ? Math.min(1, Math.max(0, (capacity - free) / capacity)) : null,
      chunkCount: figure(hb, 'chunkCount'),
    };
  };
  const rows = (members ?? []).map((m) => row(m.nodeId, m, storage.get(m.nodeId)));
  const known = new Set(rows.map((r) => r.nodeId));
  for (const [id, watched] of storage) if (!known.has(id)) rows.push(row(id, null, watched));
  return rows.sort((a, b) => a.nodeId.localeCompare(b.nodeId, 'en', { numeric: true }));
}

export function instanceRows(instances: readonly WatchedInstance[]): InstanceRow[] {
  return instances.map((i) => ({
    region: i.region,
    service: i.service,
    instance: i.instance,
    status: i.status,
    phi: finiteOrNull(i.phi),
    lastHeartbeatAt: i.lastHeartbeatAt,
    version: i.heartbeat?.version ?? null,
    uptimeSeconds: i.heartbeat?.uptimeSeconds ?? null,
    rssBytes: i.heartbeat?.load.rssBytes ?? null,
    eventLoopLagMs: i.heartbeat ? finiteOrNull(i.heartbeat.load.eventLoopLagMs) : null,
    inFlightRequests: i.heartbeat?.load.inFlightRequests ?? null,
  }));
}

/** The local region first (always listed), then any other region whose instances were heard. */
export function regionSummaries(localRegion: string, instances: readonly WatchedInstance[], replicationLag: DashboardFigures['replicationLag']): RegionSummary[] {
  const names = [localRegion, ...new Set(instances.map((i) => i.region).filter((r) => r !== localRegion))];
  return names.map((region) => {
    const mine = instances.filter((i) => i.region === region);
    const count = (status: InstanceStatus) => mine.filter((i) => i.status === status).length;
    return {
      region,
      local: region === localRegion,
      instances: { up: count('up'), suspected: count('suspected'), down: count('down') },
      replicationLagMs: region === localRegion ? null : (replicationLag?.find((l) => l.region === region)?.lagMs ?? null),
    };
  });
}

export function historyPoint(atMs: number, traffic: readonly DashboardTraffic[] | null, jobs: readonly JobProgressView[] | null, instances: readonly WatchedInstance[]): HistoryPoint {
  const requestsPerSecond: Record<string, number> = {};
  const p99Ms: Record<string, number> = {};
  for (const t of traffic ?? []) {
    requestsPerSecond[t.service] = t.requestsPerSecond;
    if (t.p99Seconds !== null && Number.isFinite(t.p99Seconds)) p99Ms[t.service] = t.p99Seconds * 1000;
  }
  const jobBytesPerSecond: Record<string, number> = {};
  for (const j of jobs ?? []) {
    if (j.rateUnit !== 'bytes' || j.ratePerSecond === null || (j.state !== 'running' && j.state !== 'paced')) continue;
    jobBytesPerSecond[j.kind] = (jobBytesPerSecond[j.kind] ?? 0) + j.ratePerSecond;
  }
  const eventLoopLagMs: Record<string, number> = {};
  for (const i of instances) {
    const lag = i.status === 'down' ? null : finiteOrNull(i.heartbeat?.load.eventLoopLagMs);
    if (lag !== null) eventLoopLagMs[i.service] = Math.max(eventLoopLagMs[i.service] ?? 0, lag);
  }
  return { atMs, requestsPerSecond, p99Ms, jobBytesPerSecond, eventLoopLagMs };
}

/** The rolling chart history: at most one point per interval, the oldest dropped past the limit. */
export class DashboardHistory {
  private readonly points: HistoryPoint[] = [];

  constructor(
    readonly intervalMs = DASHBOARD_SAMPLE_INTERVAL_MS,
    private readonly maxPoints = DASHBOARD_HISTORY_POINTS_MAX,
  ) {}

  /** Whether a point taken now would be kept. */
  due(nowMs: number): boolean {
    const last = this.points[this.points.length - 1];
    return !last || nowMs - last.atMs >= this.intervalMs;
  }

  add(point: HistoryPoint): boolean {
    if (!this.due(point.atMs)) return false;
    this.points.push(point);
    if (this.points.length > this.maxPoints) this.points.splice(0, this.points.length - this.maxPoints);
    return true;
  }

  /** Points newer than sinceMs (all when absent). */
  since(sinceMs?: number): HistoryPoint[] {
    return sinceMs === undefined ? [...this.points] : this.points.filter((p) => p.atMs > sinceMs);
  }
}
