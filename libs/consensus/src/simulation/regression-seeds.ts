/**
 * Seeds that once failed: they run on every `npm test`, whatever the seed count. Add a seed
 * here (with a line saying what it caught) whenever the simulator finds a bug.
 */
export const REGRESSION_SEEDS: readonly { readonly seed: number; readonly caught: string }[] = [];
