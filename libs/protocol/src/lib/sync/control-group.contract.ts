import type { DrillClaim } from '../cluster/drill.events';
/**
 * The control group (docs/failover.md): a Raft group with one voter per region, run by each
 * region's sync, holding every active-passive bucket's home region and epoch. Only a majority of
 * regions changes it; a home acknowledges writes only while it holds a lease granted by a majority.
 */

/** A bucket's place in the control group. */
export interface BucketHomeView {
  readonly bucket: string;
  readonly home: string;
  /** Bumped on every change of home: a write is acknowledged only by the home of the current epoch. */
  readonly epoch: number;
  /** `draining`: a planned switchover to `switchingTo` is waiting for it to catch up; writes pause. */
  readonly state: 'serving' | 'draining';
  readonly switchingTo: string | null;
  /** ISO time the home last changed (the applying region's clock when the entry applied). */
  readonly since: string;
  /** How the current home got it: registered, failover, switchover. */
  readonly reason: 'registered' | 'failover' | 'switchover';
}

/** metadata → its sync: may this region acknowledge writes to the bucket, and if not, who does. */
export interface BucketAuthorityRequest {
  readonly bucket: string;
  /** The home the bucket's replication setting names: the home until the group has registered it. */
  readonly configuredHome: string;
}

export interface BucketAuthority {
  readonly bucket: string;
  readonly home: string;
  readonly epoch: number;
  readonly state: 'serving' | 'draining';
  /**
   * When this region is the home: how long from now it may still acknowledge writes (its lease);
   * 0 when the lease has lapsed (cut off from the majority). Null when another region is home.
   */
  readonly leaseRemainingMs: number | null;
}

/** One region's check of another; the reply carries the checked region's lease grant. */
export interface ControlProbe {
  readonly from: string;
}

export interface ControlProbeReply {
  readonly region: string;
  /**
   * Whether the answering region grants the prober a lease (it has not reported the prober down);
   * valid from the moment the probe was sent, for the prober's lease length.
   */
  readonly granted: boolean;
  /** The control-group log index the answering region has applied: a grant counts only where the prober has applied as much. */
  readonly appliedIndex: number;
  /** For routing: the answering region's S3 endpoint and free storage, as its heartbeats say (null: not known). */
  readonly s3Endpoint?: string | null;
  readonly freeBytes?: number | null;
}

/** How far a region has applied another region's changes (a failover promotes the furthest). */
export interface ControlProgressRequest {
  readonly source: string;
}

export interface ControlProgressReply {
  readonly region: string;
  readonly source: string;
  /** The source's own META stream sequence up to which every change of it is applied here (0: none, or no link ever). */
  readonly appliedThrough: number;
  /** The control-group log index the answering region has applied. */
  readonly appliedIndex: number;
  /** The last sequence of the answering region's own META stream. */
  readonly ownLastSequence: number;
}

/** A region as the control group sees it. */
export interface ControlRegionView {
  readonly region: string;
  /** Regions (voters) whose latest committed report says this region is down. */
  readonly reportedDownBy: readonly string[];
  /** Down by a majority of the voters. */
  readonly down: boolean;
}

/** GET /control on sync: the group, this region's view and its lease. */
export interface ControlGroupView {
  readonly region: string;
  readonly voters: readonly string[];
  readonly role: string;
  readonly leader: string;
  readonly term: number;
  readonly appliedIndex: number;
  readonly regions: readonly ControlRegionView[];
  readonly buckets: readonly BucketHomeView[];
  /** This region's checks of the others: consecutive failures and ms since the last contact. */
  readonly checks: readonly { readonly region: string; readonly up: boolean; readonly failures: number; readonly sinceContactMs: number | null; readonly rttMs: number | null }[];
  /** How long this region may still acknowledge writes as a home. */
  readonly leaseRemainingMs: number;
  /** The drill holding the federation now, if any (one at a time). */
  readonly drill?: DrillClaim | null;
}

/** POST /control/switchover on sync: a planned move of a bucket's home. */
export interface SwitchoverRequest {
  readonly bucket: string;
  readonly to: string;
}

export interface SwitchoverReply {
  readonly bucket: string;
  readonly from: string;
  readonly to: string;
  readonly epoch: number;
  /** How long writes to the bucket were paused (drain until the new home caught up). */
  readonly pausedMs: number;
}

/** A region as a client choosing an endpoint for a bucket sees it (GET /control/route/:bucket). */
export interface RouteRegionView {
  readonly region: string;
  /** Reachable from the answering region now, and not down by the group's majority. */
  readonly up: boolean;
  /** Round trip of the answering region's last check of it (0 for itself). */
  readonly rttMs: number | null;
  readonly freeBytes: number | null;
  readonly s3Endpoint: string | null;
  /** Whether it holds a copy of the bucket (every region for a replicated bucket, only this one for a local bucket). */
  readonly holdsBucket: boolean;
}

/** Where a client should send a bucket's reads and writes, from the answering region's view. */
export interface BucketRoute {
  readonly bucket: string;
  readonly mode: 'local' | 'active-passive' | 'active-active';
  readonly home: string | null;
  readonly epoch: number | null;
  /** Writes: the home for active-passive; the nearest healthy region for active-active; this region for a local bucket. */
  readonly write: { readonly region: string; readonly s3Endpoint: string | null } | null;
  /** Reads: the nearest healthy region holding the bucket, ties to the one with more free storage. */
  readonly read: { readonly region: string; readonly s3Endpoint: string | null } | null;
  readonly regions: readonly RouteRegionView[];
}

/** Metadata asks its sync how current its copy of `source`'s changes is (a bucket's home, for a read). */
export interface ReplicaPositionRequest {
  readonly source: string;
}

export interface ReplicaPosition {
  readonly source: string;
  /** `source`'s own META sequence through which this region has applied its changes. */
  readonly appliedThrough: number;
  /** Changes of `source` that have arrived here and are not applied yet. */
  readonly pending: number;
  /**
   * How far behind `source` this region's copy may be, in ms: with nothing pending, the time since
   * `source` last answered this region's check (anything newer may be on its way); with changes
   * pending, at least the age of the oldest (by `source`'s clock). null: never heard from it.
   */
  readonly stalenessMs: number | null;
}
