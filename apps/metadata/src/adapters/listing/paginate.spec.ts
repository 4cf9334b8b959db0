import { compareKeys } from './key-order';
import { paginate, startAfterMarker, type KeyBound, type ListingSource, type ListingWindow } from './paginate';

/** An ordered in-memory source that counts the rows it hands out. */
function memorySource(keys: readonly string[]) {
  const sorted = [...keys].sort(compareKeys);
  const stats = { rowsRead: 0, queries: 0 };
  const source: ListingSource<string, never> = {
    keyOf: (k) => k,
    after: (k) => ({ kind: 'key', key: k, inclusive: false }),
    fetch: async (from: KeyBound, upperKey, limit) => {
      stats.queries += 1;
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const c = compareKeys(sorted[mid], from.key);
        if (c < 0 || (c === 0 && !from.inclusive)) lo = mid + 1;
        else hi = mid;
      }
      const rows = sorted.slice(lo, lo + limit).filter((k) => upperKey === null || compareKeys(k, upperKey) < 0);
      stats.rowsRead += rows.length;
      return rows;
    },
  };
  return { source, stats };
}

const windowOf = (over: Partial<ListingWindow>): ListingWindow => ({ prefix: '', delimiter: '', maxKeys: 1000, markerKey: null, ...over });

describe('paginate', () => {
  it('skips the contents of a common prefix instead of reading them', async () => {
    const keys: string[] = [];
    for (let d = 0; d < 300; d++) for (let f = 0; f < 40; f++) keys.push(`dir${String(d).padStart(3, '0')}/file${f}`);
    const { source, stats } = memorySource(keys);
    const page = await paginate(source, windowOf({ delimiter: '/' }), null);
    expect(page.entries).toHaveLength(300);
    expect(page.entries.every((e) => e.kind === 'prefix')).toBe(true);
    expect(page.isTruncated).toBe(false);
    expect(stats.rowsRead).toBeLessThanOrEqual(301);
  });

  it('reads plain keys in growing batches when there is a delimiter', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    const { source, stats } = memorySource(keys);
    const page = await paginate(source, windowOf({ delimiter: '/', maxKeys: 1000 }), null);
    expect(page.entries).toHaveLength(1000);
    expect(stats.queries).toBeLessThan(20);
  });

  it('counts prefixes and keys together against max-keys and reports truncation', async () => {
    const { source } = memorySource(['a', 'b/1', 'b/2', 'c', 'd/1']);
    const page = await paginate(source, windowOf({ delimiter: '/', maxKeys: 3 }), null);
    expect(page.entries).toEqual([
      { kind: 'row', row: 'a' },
      { kind: 'prefix', prefix: 'b/' },
      { kind: 'row', row: 'c' },
    ]);
    expect(page.isTruncated).toBe(true);
  });

  it('does not report truncation when the page ends exactly at the last entry', async () => {
    const { source } = memorySource(['a', 'b/1', 'b/2']);
    const page = await paginate(source, windowOf({ delimiter: '/', maxKeys: 2 }), null);
    expect(page.isTruncated).toBe(false);
  });

  it('starts after a marker but never before the prefix, and knows when a marker is past the prefix', () => {
    expect(startAfterMarker('p/', null)).toEqual({ kind: 'key', key: 'p/', inclusive: true });
    expect(startAfterMarker('p/', 'a')).toEqual({ kind: 'key', key: 'p/', inclusive: true });
    expect(startAfterMarker('p/', 'p/x')).toEqual({ kind: 'key', key: 'p/x', inclusive: false });
    expect(startAfterMarker('p/', 'q')).toBe('empty');
  });
});
