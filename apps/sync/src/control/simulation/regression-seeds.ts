import type { InjectedBug, ServiceBehaviour } from './control-group.simulator';
import { AS_WRITTEN } from './control-group.simulator';

/**
 * Seeds that once failed: they run on every `npm test`, whatever the seed count. Add a seed here
 * (with a line saying what it caught) whenever the control-group simulator finds a bug.
 */
export const REGRESSION_SEEDS: readonly { readonly seed: number; readonly caught: string }[] = [
  {
    seed: 10,
    caught:
      'split brain: r1 decided r3 down and proposed its report; r3 came back and probed r1 before that report committed, so r1 (its applied report not calling r3 down) granted r3 a lease; the report committed, r1 promoted itself, and both held a lease for 1.7 s',
  },
  { seed: 87, caught: 'split brain (5 regions, clocks ±5%) before report sequence numbers and the grant rule that waits for them' },
  { seed: 1093, caught: 'split brain (5 regions) before report sequence numbers and the grant rule that waits for them' },
  { seed: 1135, caught: 'split brain (3 regions) while healing, before report sequence numbers and the grant rule that waits for them' },
  { seed: 17, caught: 'a switchover whose BeginSwitchover outcome was unknown (its coordinator cut off) left the bucket draining for good' },
  { seed: 4, caught: 'liveness: a region whose report waited 5 s on a cut-off leader stopped probing, so the home was found down only after 10 s' },
  { seed: 47, caught: 'simulator: a cut of just over two check intervals can fail three checks in a row; the ground truth now says so' },
];

/** Bugs put back on purpose, and a seed on which the simulator catches each. */
export const INJECTED_BUG_SEEDS: readonly { readonly seed: number; readonly injected: InjectedBug; readonly fails: RegExp }[] = [
  { seed: 10, injected: 'grant-on-committed-report-only', fails: /SPLIT BRAIN/ },
];

/** The service as it was written when the simulator ran it, and what the simulator found. */
export const AS_WRITTEN_SEEDS: readonly { readonly seed: number; readonly service: ServiceBehaviour; readonly fails: RegExp; readonly caught: string }[] = [];

export { AS_WRITTEN };
