import { replicaStalenessMs } from './replica-staleness';

const NOW = 1_000_000;

describe('replicaStalenessMs', () => {
  it.each<[string, number, number | null, number | null, number | null]>([
    ['never heard from the source', 0, null, null, null],
    ['nothing pending, checked 400 ms ago', 0, null, 400, 400],
    ['nothing pending, just checked', 0, null, 0, 0],
    ['a change pending for 3 s, checked 400 ms ago', 2, NOW - 3_000, 400, 3_000],
    ['a change pending made 100 ms ago, checked 900 ms ago', 1, NOW - 100, 900, 900],
    ["a pending change stamped ahead of our clock", 1, NOW + 5_000, 200, 200],
    ['pending with no stamp: the last check', 3, null, 700, 700],
  ])('%s', (_name, pending, oldestPendingAtMs, sinceContactMs, expected) => {
    expect(replicaStalenessMs({ pending, oldestPendingAtMs, sinceContactMs, nowMs: NOW })).toBe(expected);
  });
});
