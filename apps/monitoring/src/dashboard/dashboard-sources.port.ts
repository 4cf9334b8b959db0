/**
 * What the dashboard shows beyond heartbeats, membership and jobs, from the parts of monitoring
 * that compute it: the region's figures scraped from the services' metrics, and the alerts. Each
 * is optional: until one is provided the dashboard says "no data" in its place.
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
  /** Between regions; null while there are no other regions. */
  readonly replicationLag: readonly { readonly region: string; readonly lagMs: number }[] | null;
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
