/**
 * Seeds that once failed: they run on every `npm test`, whatever the seed count. Add a seed
 * here (with a line saying what it caught) whenever the simulator finds a bug.
 */
export const REGRESSION_SEEDS: readonly { readonly seed: number; readonly caught: string }[] = [
  { seed: 71, caught: 'simulator: convergence waited for an idle disk on a leader that is never idle' },
  { seed: 1, caught: 'injected bug: votes granted without the log up-to-date check (leader lacked a committed entry)' },
  { seed: 242, caught: 'injected bug: ReadIndex served without a quorum round (stale read, not linearizable)' },
];
