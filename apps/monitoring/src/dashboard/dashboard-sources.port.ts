import type { BucketHomeView, DrillReport } from '@cairn/protocol';

/**
 * What the dashboard shows beyond heartbeats, membership and jobs, from the parts of monitoring
 * that compute it: the region's figures scraped from the services' metrics, the alerts, and the
 * drill reports kept on CLUSTER. Each is optional: until one is provided the dashboard says
 * "no data" in its place.
 */

/** One service's traffic over the figures' rate window. */
export interface DashboardTraffic {
  readonly service: string;
  readonly requestsPerSecond: number;
  /** Share of requests answered with a 5xx (0..1); null without traffic. */
  readonly errorRatio: number | null;
  readonly p99Seconds: number | null;
}

export interface DashboardFigures {
  /** null until the figures have a rate (two scrapes). */
  readonly traffic: readonly DashboardTraffic[] | null;
  /** Events not yet in metadata's Postgres projection, per metadata instance and stream. */
  readonly projectionLag: readonly { readonly instance: string; readonly stream: string; readonly events: number }[] | null;
  /** Into this region from each other region (its sync's metrics); null while no sync reports one. */
  readonly replicationLag: readonly ReplicationLagFigure[] | null;
  /** The control group as this region's sync sees it; null while no sync has been scraped. */
  readonly control: ControlFigures | null;
}

/** How far this region is behind another (sync's cairn_replication_lag_seconds{source,target}). */
export interface ReplicationLagFigure {
  /** The source region. */
  readonly region: string;
  /** Age of its oldest change not yet applied here (the measured RPO). */
  readonly lagMs: number;
  /** Its changes not yet applied here; null when sync does not say. */
  readonly pendingEvents: number | null;
  /** Whether it feeds this region now; null when sync does not say. */
  readonly linkUp: boolean | null;
}

/**
 * The control group (docs/failover.md) from this region's sync: its metrics (cairn_control_*)
 * and, when it answers, its GET /control (signed as monitoring) for every active-passive bucket's
 * home and epoch.
 */
export interface ControlFigures {
  /** The sync instance read. */
  readonly instance: string;
  /** Whether this region leads the group (cairn_control_leader); null when sync does not say. */
  readonly leader: boolean | null;
  /** How long this region may still acknowledge writes as a home (cairn_control_lease_seconds). */
  readonly leaseSeconds: number | null;
  /** Failovers this region proposed while leading, since its sync started. */
  readonly failovers: number | null;
  /** Every voter, and whether a majority finds it down (cairn_control_region_down{region}). */
  readonly regions: readonly { readonly region: string; readonly down: boolean; readonly reportedDownBy: readonly string[] | null }[];
  /** GET /control on sync; null until it has answered. */
  readonly group: {
    readonly fetchedAt: string;
    readonly role: string;
    readonly leader: string;
    readonly term: number;
    readonly voters: readonly string[];
    readonly buckets: readonly BucketHomeView[];
  } | null;
  /** Why the last GET /control failed (null when it answered); `group` is then the answer before, if any. */
  readonly groupError: string | null;
}

export interface DashboardFiguresSource {
  figures(): DashboardFigures | Promise<DashboardFigures>;
}
export const DASHBOARD_FIGURES = Symbol('DASHBOARD_FIGURES');

export type DashboardAlertState = 'pending' | 'firing' | 'resolved';

export interface DashboardAlert {
  readonly id: string;
  readonly rule: string;
  readonly severity: string;
  readonly state: DashboardAlertState;
  readonly summary: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly threshold: number;
  readonly unit: string;
  readonly activeSinceMs: number;
  readonly firingSinceMs: number | null;
  readonly resolvedAtMs: number | null;
}

export interface DashboardAlerts {
  /** Pending and firing. */
  readonly active: readonly DashboardAlert[];
  /** Recently resolved, newest last. */
  readonly resolved: readonly DashboardAlert[];
}

export interface DashboardAlertsSource {
  alerts(): DashboardAlerts | Promise<DashboardAlerts>;
}
export const DASHBOARD_ALERTS = Symbol('DASHBOARD_ALERTS');

/** Disaster-recovery drill reports kept on this region's CLUSTER stream (DrillReported events). */
export interface DashboardDrills {
  /** The latest reports, newest first. */
  readonly reports: readonly DrillReport[];
  /** Reports kept in all. */
  readonly total: number;
}

export interface DashboardDrillsSource {
  drills(): DashboardDrills | Promise<DashboardDrills>;
}
export const DASHBOARD_DRILLS = Symbol('DASHBOARD_DRILLS');
