/** What every service publishes once a second on `hb.<region>.<service>.<instance>`. */
export interface Heartbeat {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly sentAt: string;
  /**
   * Where the instance serves HTTP (its /health and /metrics), as it knows it; absent until it
   * listens. monitoring scrapes each live instance's /metrics there.
   */
  readonly url?: string;
  readonly load: {
    readonly loadAverage1m: number;
    readonly rssBytes: number;
    readonly heapUsedBytes: number;
    readonly eventLoopLagMs: number;
    readonly inFlightRequests: number;
  };
  /** Service-specific figures: a storage node's capacity, a consumer's lag, and so on. */
  readonly extra?: Readonly<Record<string, number | string | boolean>>;
}

/** The heartbeat figure every service reports: its CAIRN_REPLICATION_FACTOR (monitoring alerts when a region's instances disagree). */
export const REPLICATION_FACTOR_FIGURE = 'replicationFactor';
