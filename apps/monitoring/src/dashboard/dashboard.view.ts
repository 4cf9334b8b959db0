import type { DrillReport, Heartbeat, JobProgressView, JobsSummaryReply, StorageNodeView } from '@cairn/protocol';
import type { InstanceView } from '../domain/instance-view';
import type { InstanceStatus } from '../domain/phi-accrual.detector';
import type { ControlFigures, DashboardAlerts, DashboardFigures, DashboardTraffic } from './dashboard-sources.port';

/**
 * The dashboard's data (GET /api/dashboard): one JSON document per poll with everything the page
 * draws. Built here from plain inputs, so the rules (which node is which instance, what a chart
 * point holds, how much history is kept) are tested without a region.
 */

/** Chart points kept: at one point per DASHBOARD_SAMPLE_INTERVAL_MS, ten minutes. */
export const DASHBOARD_HISTORY_POINTS_MAX = 600;
/** The dashboard's sources are read at most this often, however many pages poll. */
export const DASHBOARD_SAMPLE_INTERVAL_MS = 1_000;
/** Drill reports shown, newest first. */
export const DASHBOARD_DRILLS_SHOWN = 10;
/** sync's lease when its region is alone (no group, no lease needed): at least this many seconds. */
const UNBOUNDED_LEASE_SECONDS = 1e6;

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
  /** Whether this monitoring hears the region's heartbeats (only its own region's, today). */
  readonly monitored: boolean;
  /** How far this region is behind it (null for the local region, or while its sync does not say). */
  readonly replicationLagMs: number | null;
  readonly pendingEvents: number | null;
  /** Whether it feeds this region now (its replication link), as this region's sync sees it. */
  readonly linkUp: boolean | null;
  /** Down by a majority of the control group; null while the control group is not seen. */
  readonly down: boolean | null;
  /** The voters whose latest report calls it down (from GET /control); null when not read. */
  readonly reportedDownBy: readonly string[] | null;
}

/** A disaster-recovery drill, as the drills table shows it. */
export interface DrillRow {
  readonly id: string;
  /** PASS only when the report says ok, with no split brain and no acknowledged write lost. */
  readonly result: 'PASS' | 'FAIL';
  /** The region taken out. */
  readonly region: string;
  /** Who started it: an operator's `cairn drill run`, or the scheduler's periodic drill. */
  readonly trigger: 'cli' | 'schedule';
  readonly bucket: string;
  readonly oldHome: string | null;
  readonly newHome: string | null;
  readonly epoch: number | null;
  /** From the cut to the group naming the new home. */
  readonly failoverSeconds: number | null;
  /** From the cut to the first write the new home acknowledged. */
  readonly rtoSeconds: number | null;
  /** Writes acknowledged before the cut that the new home lacked, and how far before it the oldest was. */
  readonly rpoObjects: number | null;
  readonly rpoSeconds: number | null;
  /** What the old home acknowledged within its lease after the cut. */
  readonly acknowledgedByOldHomeAfterFailure: number | null;
  readonly splitBrain: boolean;
  readonly converged: boolean | null;
  readonly convergedSeconds: number | null;
  readonly lostAcknowledged: number | null;
  readonly writesAcknowledged: number | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly problems: readonly string[];
}

/** The control group panel: who leads, regions down by majority, every active-passive bucket's home. */
export interface ControlPanel {
  /** The sync instance read. */
  readonly instance: string;
  /** More than one voter: a group runs (a region alone needs none). */
  readonly federated: boolean;
  /** Whether this region leads the group. */
  readonly leading: boolean | null;
  /** The group's leader and term (from GET /control), null when not read. */
  readonly groupLeader: string | null;
  readonly term: number | null;
  readonly role: string | null;
  /** This region's lease as a home; null when unbounded (alone) or not known. */
  readonly leaseSeconds: number | null;
  readonly failovers: number | null;
  readonly regionsDown: readonly string[];
  readonly buckets: readonly { readonly bucket: string; readonly home: string; readonly epoch: number; readonly state: string; readonly switchingTo: string | null; readonly reason: string; readonly since: string }[] | null;
  /** When the buckets were read, or why they are not shown. */
  readonly bucketsAt: string | null;
  readonly bucketsNote: string | null;
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
  readonly control: Sourced<ControlPanel> | Unavailable;
  readonly drills: Sourced<{ readonly total: number; readonly items: readonly DrillRow[] }> | Unavailable;
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

/**
 * The local region first (always listed), then every other region known: whose instances were
 * heard, that this region replicates from, or that votes in the control group — by name.
 */
export function regionSummaries(
  localRegion: string,
  instances: readonly WatchedInstance[],
  replicationLag: DashboardFigures['replicationLag'],
  control: ControlFigures | null = null,
): RegionSummary[] {
  const others = [...instances.map((i) => i.region), ...(replicationLag ?? []).map((l) => l.region), ...(control?.regions ?? []).map((r) => r.region)].filter((r) => r !== localRegion);
  const names = [localRegion, ...[...new Set(others)].sort()];
  return names.map((region) => {
    const mine = instances.filter((i) => i.region === region);
    const count = (status: InstanceStatus) => mine.filter((i) => i.status === status).length;
    const lag = region === localRegion ? undefined : replicationLag?.find((l) => l.region === region);
    const group = control?.regions.find((r) => r.region === region);
    return {
      region,
      local: region === localRegion,
      instances: { up: count('up'), suspected: count('suspected'), down: count('down') },
      monitored: mine.length > 0,
      replicationLagMs: lag ? lag.lagMs : null,
      pendingEvents: lag?.pendingEvents ?? null,
      linkUp: lag?.linkUp ?? null,
      down: group ? group.down : null,
      reportedDownBy: group?.reportedDownBy ?? null,
    };
  });
}

const numberOrNull = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) ? n : null);
const stringOrNull = (s: unknown): string | null => (typeof s === 'string' ? s : null);

/** A stored report as the table shows it (reports are kept as the CLI sent them: every field is read defensively). */
export function drillRow(report: DrillReport): DrillRow {
  const lostAcknowledged = numberOrNull(report.lostAcknowledged);
  const splitBrain = report.splitBrain === true;
  return {
    id: String(report.id),
    result: report.ok === true && !splitBrain && lostAcknowledged === 0 ? 'PASS' : 'FAIL',
    region: String(report.region),
    trigger: report.trigger === 'schedule' ? 'schedule' : 'cli',
    bucket: String(report.bucket),
    oldHome: stringOrNull(report.oldHome),
    newHome: stringOrNull(report.newHome),
    epoch: numberOrNull(report.epoch),
    failoverSeconds: numberOrNull(report.failoverSeconds),
    rtoSeconds: numberOrNull(report.rtoSeconds),
    rpoObjects: numberOrNull(report.rpoObjects),
    rpoSeconds: numberOrNull(report.rpoSeconds),
    acknowledgedByOldHomeAfterFailure: numberOrNull(report.acknowledgedByOldHomeAfterFailure),
    splitBrain,
    converged: typeof report.converged === 'boolean' ? report.converged : null,
    convergedSeconds: numberOrNull(report.convergedSeconds),
    lostAcknowledged,
    writesAcknowledged: numberOrNull(report.writes?.acknowledged),
    startedAt: stringOrNull(report.startedAt),
    finishedAt: stringOrNull(report.finishedAt),
    problems: Array.isArray(report.problems) ? report.problems.filter((p): p is string => typeof p === 'string') : [],
  };
}

/** The latest reports (given newest first) as rows, at most `shown`. */
export function drillRows(reports: readonly DrillReport[], shown = DASHBOARD_DRILLS_SHOWN): DrillRow[] {
  return reports.slice(0, shown).map(drillRow);
}

export function controlPanel(control: ControlFigures): ControlPanel {
  const group = control.group;
  const voters = group?.voters.length ?? control.regions.length;
  const lease = control.leaseSeconds;
  return {
    instance: control.instance,
    federated: voters > 1,
    leading: control.leader,
    groupLeader: group ? group.leader || null : null,
    term: group?.term ?? null,
    role: group?.role ?? null,
    leaseSeconds: lease === null || lease >= UNBOUNDED_LEASE_SECONDS ? null : lease,
    failovers: control.failovers,
    regionsDown: control.regions.filter((r) => r.down).map((r) => r.region),
    buckets: group
      ? group.buckets.map((b) => ({ bucket: b.bucket, home: b.home, epoch: b.epoch, state: b.state, switchingTo: b.switchingTo ?? null, reason: b.reason, since: b.since }))
      : null,
    bucketsAt: group?.fetchedAt ?? null,
    bucketsNote: control.groupError ? (group ? `as of ${group.fetchedAt}; the last read failed: ${control.groupError}` : `bucket homes unavailable: ${control.groupError}`) : null,
  };
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
