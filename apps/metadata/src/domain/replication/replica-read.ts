/**
 * Whether a region that is not an active-passive bucket's home may answer a read of it from its
 * own copy (docs/failover.md). Two things can hold it back:
 * - the requester's own last write to the bucket, forwarded through this region and acknowledged
 *   by the home at `sequence` of the home's stream: this region must have applied that far
 *   (read-your-writes, always);
 * - the bucket's staleness bound, when it has one: this region's copy of the current home's
 *   changes may be at most that far behind.
 * What is not known (sync did not answer) holds the read back: the caller waits, then refuses.
 */
export interface ReplicaReadFacts {
  readonly ownWrite: { readonly sequence: number; readonly appliedThrough: number | null } | null;
  readonly bound: { readonly seconds: number; readonly stalenessMs: number | null } | null;
}

export type ReplicaReadDecision = { readonly local: true } | { readonly local: false; readonly reason: string };

export function replicaReadDecision(f: ReplicaReadFacts): ReplicaReadDecision {
  if (f.ownWrite) {
    const { sequence, appliedThrough } = f.ownWrite;
    if (appliedThrough === null) return { local: false, reason: 'this region cannot tell whether it has applied your last write yet' };
    if (appliedThrough < sequence) return { local: false, reason: `your last write (the home's change ${sequence}) is not applied here yet (applied through ${appliedThrough})` };
  }
  if (f.bound) {
    const { seconds, stalenessMs } = f.bound;
    if (stalenessMs === null) return { local: false, reason: `this region cannot tell how far behind the home it is (the bucket allows ${seconds} s)` };
    if (stalenessMs > seconds * 1000) return { local: false, reason: `this region's copy may be ${(stalenessMs / 1000).toFixed(1)} s behind the home; the bucket allows ${seconds} s` };
  }
  return { local: true };
}
