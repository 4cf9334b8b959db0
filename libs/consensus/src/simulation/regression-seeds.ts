/**
 * Seeds that once failed: they run on every `npm test`, whatever the seed count. Add a seed
 * here (with a line saying what it caught) whenever the simulator finds a bug.
 */
export const REGRESSION_SEEDS: readonly { readonly seed: number; readonly caught: string }[] = [
  { seed: 71, caught: 'simulator: convergence waited for an idle disk on a leader that is never idle' },
  { seed: 1, caught: 'injected bug: votes granted without the log up-to-date check (leader lacked a committed entry)' },
  { seed: 242, caught: 'injected bug: ReadIndex served without a quorum round (stale read, not linearizable); since the fault profile grew it reaches that bug no more (1116 does), but it catches the driver loop settling a proposal as applied when a later leader\'s entry took its index' },
  { seed: 112, caught: 'injected bug: leader commits an older term\'s entry by counting replicas (Figure 8, 3 nodes; leader completeness)' },
  { seed: 118, caught: 'injected bug: leader commits an older term\'s entry by counting replicas (Figure 8, 5 nodes; leader completeness)' },
  { seed: 284, caught: 'injected bug: vote not persisted before the vote reply is sent (crash after voting; votes twice in term 1, which without the vote checker shows as two leaders)' },
  { seed: 260, caught: 'injected bug: vote not persisted before the vote reply is sent (crash after voting; one node votes twice in a term)' },
  { seed: 64, caught: 'injected bug: a vote-only HardState change is not persisted (crash after voting; one node votes twice in a term)' },
  { seed: 1116, caught: 'injected bug: ReadIndex served without a quorum round (stale read, not linearizable)' },
];
