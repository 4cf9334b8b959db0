/**
 * How far behind `source` this region's copy may be, in ms (docs/failover.md). With nothing
 * pending, the copy was current when `source` last answered this region's check: anything newer
 * may be on its way. With changes pending, at least the age of the oldest (by `source`'s clock,
 * which may differ from ours: never counted below 0). null: `source` has never answered.
 */
export function replicaStalenessMs(input: { readonly pending: number; readonly oldestPendingAtMs: number | null; readonly sinceContactMs: number | null; readonly nowMs: number }): number | null {
  if (input.sinceContactMs === null) return null;
  if (input.pending === 0 || input.oldestPendingAtMs === null) return input.sinceContactMs;
  return Math.max(input.sinceContactMs, input.nowMs - input.oldestPendingAtMs, 0);
}
