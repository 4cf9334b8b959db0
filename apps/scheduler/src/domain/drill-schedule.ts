import type { ControlGroupView } from '@cairn/protocol';

export type DrillDecision = { readonly run: true } | { readonly run: false; readonly reason: string };

/**
 * Whether a scheduled drill (docs/failover.md) should take `region` out now, from the control
 * group's view as one region's sync answered it (null: none answered). A drill is a planned
 * outage: it never starts on top of a real one (a region down, no leader), during a switchover,
 * or while another drill holds the federation.
 */
export function scheduledDrillDecision(region: string, view: ControlGroupView | null, nowMs: number): DrillDecision {
  if (!view) return { run: false, reason: 'no region of the profile answered with its control group' };
  if (!view.voters.includes(region)) return { run: false, reason: `${region} is not a region of the control group (${view.voters.join(', ')})` };
  if (view.voters.length < 3) return { run: false, reason: `the federation has ${view.voters.length} regions: a drill needs three, so that a majority remains` };
  if (!view.leader) return { run: false, reason: 'the control group has no leader' };
  const down = view.regions.filter((r) => r.down).map((r) => r.region);
  if (down.length) return { run: false, reason: `${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} down: no drill on top of a real outage` };
  const draining = view.buckets.filter((b) => b.state === 'draining').map((b) => b.bucket);
  if (draining.length) return { run: false, reason: `a switchover is moving ${draining.join(', ')}` };
  if (view.drill && Date.parse(view.drill.until) > nowMs) return { run: false, reason: `drill ${view.drill.id} (${view.drill.region} out, run by ${view.drill.by}) is running` };
  return { run: true };
}
