import { mayDeleteTouchedAt, mtimeToTouchedAtMs, parseEpochMs, reportedTouchedAtMs, verifyBudgetAllows } from './chunk-maintenance';

describe('chunk maintenance rules', () => {
  it('never reports a touch older than the store opening', () => {
    expect(reportedTouchedAtMs(undefined, 1_000)).toBe(1_000);
    expect(reportedTouchedAtMs(500, 1_000)).toBe(1_000);
    expect(reportedTouchedAtMs(1_500, 1_000)).toBe(1_500);
  });

  it('reads an integer-ms touch back from a float mtime', () => {
    expect(mtimeToTouchedAtMs(1_700_000_000_440.999)).toBe(1_700_000_000_441);
    expect(mtimeToTouchedAtMs(1_700_000_000_441)).toBe(1_700_000_000_441);
  });

  it('deletes only what was touched strictly before the threshold', () => {
    expect(mayDeleteTouchedAt(99, 100)).toBe(true);
    expect(mayDeleteTouchedAt(100, 100)).toBe(false);
    expect(mayDeleteTouchedAt(101, 100)).toBe(false);
    expect(mayDeleteTouchedAt(101, undefined)).toBe(true);
  });

  it('reads at least one chunk per verify call, then stays within the byte budget', () => {
    expect(verifyBudgetAllows(0, 0, 10_000, 100)).toBe(true);
    expect(verifyBudgetAllows(1, 60, 40, 100)).toBe(true);
    expect(verifyBudgetAllows(1, 60, 41, 100)).toBe(false);
  });

  it('parses epoch ms headers strictly', () => {
    expect(parseEpochMs('1700000000123')).toBe(1_700_000_000_123);
    for (const bad of [undefined, '', '-1', '1.5', '1e3', 'abc', '1234567890123456']) expect(parseEpochMs(bad)).toBeNull();
  });
});
