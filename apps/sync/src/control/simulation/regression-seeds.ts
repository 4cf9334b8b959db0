import { AS_WRITTEN, PROPOSED, type InjectedBug, type ServiceBehaviour } from './control-group.simulator';

/**
 * Seeds that once failed (the fault schedule has changed since, so they replay other histories now): they
 * run on every `npm test`, whatever the seed count. Add a seed here
 * (with a line saying what it caught) whenever the control-group simulator finds a bug.
 */
export const REGRESSION_SEEDS: readonly { readonly seed: number; readonly caught: string }[] = [
  {
    seed: 10,
    caught:
      'split brain (before report sequence numbers): r1 decided r3 down and proposed its report; r3 came back and probed r1 before that report committed, so r1 granted r3 a lease; the report committed, r1 promoted itself, both held a lease for 1.7 s',
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
  { seed: 913, injected: 'grant-on-committed-report-only', fails: /SPLIT BRAIN/ },
];

/** The service as it was written when the simulator ran it, and what the simulator found. */
export const AS_WRITTEN_SEEDS: readonly { readonly seed: number; readonly service: ServiceBehaviour; readonly fails: RegExp; readonly caught: string }[] = [
  {
    seed: 31,
    service: { ...PROPOSED, reportBlocksProbing: true },
    fails: /LIVENESS/,
    caught: 'checkPeers awaits report(): a report waiting on a leader that was just cut off stops that region probing for up to 5 s, so the cut-off home is not replaced within 8 s',
  },
  {
    seed: 82,
    service: { ...PROPOSED, noStaleDrainRecovery: true },
    fails: /is draining/,
    caught: 'a switchover whose coordinator went away after BeginSwitchover leaves the bucket draining (refusing writes) for good',
  },
  {
    seed: 1,
    service: AS_WRITTEN,
    fails: /switchover of bucket-2 r2 → r3 completed with r3 at r2's change 32, but r2 had acknowledged a write to it as change 33/,
    caught:
      "metadata's post-append check reads its 250 ms authority cache and ignores a drain: r2 acknowledged a write after its sync had applied BeginSwitchover and the coordinator had read its last change, and CompleteSwitchover made r3 home 76 ms later without it",
  },
];
