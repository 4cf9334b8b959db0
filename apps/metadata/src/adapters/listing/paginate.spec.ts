import { compareKeys, prefixUpperBound } from './key-order';
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

/** The in-memory source that can also walk past common prefixes, as the SQL one does in a statement. */
function walkingMemorySource(keys: readonly string[]) {
  const { source, stats } = memorySource(keys);
  const walkStats = { walks: 0, entriesWalked: 0 };
  const walking: ListingSource<string, never> = {
    ...source,
    fetchSkippingPrefixes: async (from, upperKey, limit, window) => {
      walkStats.walks += 1;
      const rows: string[] = [];
      let at: KeyBound = from;
      while (rows.length < limit) {
        stats.queries -= 1; // each probe goes through fetch; a walk is one statement
        const [row] = await source.fetch(at, upperKey, 1);
        if (row === undefined) break;
        rows.push(row);
        const delimiterAt = row.indexOf(window.delimiter, window.prefix.length);
        at = delimiterAt < 0 ? { kind: 'key', key: row, inclusive: false } : { kind: 'key', key: prefixUpperBound(row.slice(0, delimiterAt + window.delimiter.length))!, inclusive: true };
      }
      stats.queries += 1;
      walkStats.entriesWalked += rows.length;
      return rows;
    },
  };
  return { source: walking, stats, walkStats };
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

  describe('with a source that walks past common prefixes itself', () => {
    const folders = (count: number, filesEach: number) => Array.from({ length: count * filesEach }, (_, i) => `d/${String(Math.floor(i / filesEach)).padStart(5, '0')}/f${i % filesEach}`);

    it('lists 1000 common prefixes in a handful of statements, reading no file beneath them', async () => {
      const { source, stats, walkStats } = walkingMemorySource(folders(3000, 4));
      const page = await paginate(source, windowOf({ prefix: 'd/', delimiter: '/', maxKeys: 1000 }), null);
      expect(page.entries).toHaveLength(1000);
      expect(page.entries.every((e) => e.kind === 'prefix')).toBe(true);
      expect(page.isTruncated).toBe(true);
      expect(stats.queries).toBeLessThanOrEqual(8);
      expect(walkStats.entriesWalked).toBeLessThanOrEqual(1001);
    });

    it('goes back to range batches when keys outnumber prefixes', async () => {
      const keys = [...folders(3, 2), ...Array.from({ length: 2000 }, (_, i) => `d/file${String(i).padStart(4, '0')}`)];
      const { source, stats, walkStats } = walkingMemorySource(keys);
      const page = await paginate(source, windowOf({ prefix: 'd/', delimiter: '/', maxKeys: 1000 }), null);
      expect(page.entries.slice(0, 3)).toEqual([0, 1, 2].map((i) => ({ kind: 'prefix', prefix: `d/0000${i}/` })));
      expect(page.entries).toHaveLength(1000);
      expect(walkStats.entriesWalked).toBeLessThanOrEqual(2 * 16);
      expect(stats.queries).toBeLessThan(20);
    });

    it('lists the same pages as seeking past each prefix, for every page size and marker', async () => {
      const keys = [...folders(40, 3), 'a', 'd/x', 'd/y/', 'd/y/z', 'd/zz', 'e/1', 'e/2/3', 'f'];
      for (const prefix of ['', 'd/', 'd/000']) {
        for (const maxKeys of [1, 2, 3, 7, 50, 1000]) {
          for (const markerKey of [null, 'd/00005/', 'd/00005/f1', 'd/y']) {
            const window = windowOf({ prefix, delimiter: '/', maxKeys, markerKey });
            const start = startAfterMarker(prefix, markerKey);
            if (start === 'empty') continue;
            const seeking = await paginate(memorySource(keys).source, window, start);
            const walking = await paginate(walkingMemorySource(keys).source, window, start);
            expect(walking).toEqual(seeking);
          }
        }
      }
    });
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
