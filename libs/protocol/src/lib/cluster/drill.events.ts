import type { DomainEvent } from '../envelope';

/**
 * A disaster-recovery drill (docs/failover.md): a region taken out while clients write, the
 * failover measured, the region restored and convergence checked. Kept on CLUSTER as an event.
 */
export interface DrillReport {
  readonly id: string;
  /** The region taken out. */
  readonly region: string;
  readonly bucket: string;
  /** How the region was taken out: its links cut through the fault proxy. */
  readonly method: 'cut-links';
  readonly startedAt: string;
  readonly failedAt: string;
  readonly promotedAt: string | null;
  readonly healedAt: string | null;
  readonly finishedAt: string;
  readonly oldHome: string;
  readonly newHome: string | null;
  readonly epoch: number | null;
  /** From the failure to the first write acknowledged by the new home. */
  readonly rtoSeconds: number | null;
  /** From the failure to the control group naming the new home. */
  readonly failoverSeconds: number | null;
  /** Writes acknowledged before the failure that the new home did not have: how many, and how far back the oldest was. */
  readonly rpoObjects: number;
  readonly rpoSeconds: number;
  /** Writes the old home acknowledged after the failure, within its lease: not in the new home until it heals. */
  readonly acknowledgedByOldHomeAfterFailure: number;
  readonly writes: { readonly attempted: number; readonly acknowledged: number; readonly refused: number };
  /** Whether, by the clients' records, two regions acknowledged writes to the bucket at once. */
  readonly splitBrain: boolean;
  readonly converged: boolean;
  readonly convergedSeconds: number | null;
  /** Acknowledged writes missing from some region after convergence was given its time: must be 0. */
  readonly lostAcknowledged: number;
  readonly ok: boolean;
  readonly problems: readonly string[];
  /** Who started it: an operator's `cairn drill run`, or the scheduler's periodic drill (absent in reports from before). */
  readonly trigger?: 'cli' | 'schedule';
}

/** POST /control/drills/claim on sync: one drill at a time across the federation, held by the control group. */
export interface DrillClaimRequest {
  readonly id: string;
  /** The region the drill takes out. */
  readonly region: string;
  /** Who runs it, for the operator who finds it holding the federation. */
  readonly by: string;
  /** The claim lapses after this long should its runner die without releasing it. */
  readonly ttlSeconds: number;
}

export interface DrillClaim {
  readonly id: string;
  readonly region: string;
  readonly by: string;
  readonly until: string;
}

export type DrillReported = DomainEvent<'DrillReported', DrillReport>;

export const DrillSchemaVersions: Readonly<Record<DrillReported['type'], number>> = {
  DrillReported: 1,
};
