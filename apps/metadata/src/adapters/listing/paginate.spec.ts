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

/** A row of a source with several rows per key (versions, uploads): its key and its place within the key. */
type KeyedRow = { readonly key: string; readonly n: number };
type WithinKeyPosition = { readonly kind: 'row'; readonly key: string; readonly n: number };

/**
 * An in-memory source with several rows per key, ordered by key then n; with `walks`, it also walks
 * past common prefixes as the SQL one does in a statement: the next row of a plain key, else the
 * first row past the previous row's prefix or key.
 */
function multiRowMemorySource(rows: readonly KeyedRow[], walks: boolean) {
  const sorted = [...rows].sort((x, y) => compareKeys(x.key, y.key) || x.n - y.n);
  const stats = { queries: 0 };
  const isBefore = (row: KeyedRow, from: WithinKeyPosition | KeyBound) => {
    const c = compareKeys(row.key, from.key);
    if (from.kind === 'key') return c < 0 || (c === 0 && !from.inclusive);
    return c < 0 || (c === 0 && row.n <= from.n);
  };
  const read = (from: WithinKeyPosition | KeyBound, upperKey: string | null, limit: number) =>
    sorted.filter((row) => !isBefore(row, from) && (upperKey === null || compareKeys(row.key, upperKey) < 0)).slice(0, limit);
  const source: ListingSource<KeyedRow, WithinKeyPosition> = {
    keyOf: (row) => row.key,
    after: (row) => ({ kind: 'row', key: row.key, n: row.n }),
    fetch: async (from, upperKey, limit) => {
      stats.queries += 1;
      return read(from, upperKey, limit);
    },
    ...(walks && {
      fetchSkippingPrefixes: async (from: KeyBound, upperKey: string | null, limit: number, window: Pick<ListingWindow, 'prefix' | 'delimiter'>) => {
        stats.queries += 1;
        const walked: KeyedRow[] = [];
        let at: WithinKeyPosition | KeyBound = from;
        while (walked.length < limit) {
          const [row] = read(at, upperKey, 1);
          if (row === undefined) break;
          walked.push(row);
          const delimiterAt = row.key.indexOf(window.delimiter, window.prefix.length);
          at = delimiterAt < 0 ? source.after(row) : { kind: 'key', key: prefixUpperBound(row.key.slice(0, delimiterAt + window.delimiter.length))!, inclusive: true };
        }
        return walked;
      },
    }),
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

    it('lists the same pages as seeking when keys have several rows, from every marker and row inside a key', async () => {
      const keys = [...folders(40, 3), 'a', 'd/00010', 'd/00020x', 'd/x', 'd/y/', 'd/y/z', 'd/zz', 'e/1', 'e/2/3', 'f'];
      const rows = keys.flatMap((key, i) => Array.from({ length: 1 + (i % 3) }, (_, n) => ({ key, n })));
      const starts: { markerKey: string | null; within?: WithinKeyPosition }[] = [
        { markerKey: null },
        { markerKey: 'd/00005/' },
        { markerKey: 'd/00005/f1' },
        { markerKey: 'd/00005/f1', within: { kind: 'row', key: 'd/00005/f1', n: 0 } },
        { markerKey: 'd/00010' },
        { markerKey: 'd/00010', within: { kind: 'row', key: 'd/00010', n: 0 } },
        { markerKey: 'd/00020x', within: { kind: 'row', key: 'd/00020x', n: 1 } },
        { markerKey: 'd/y' },
      ];
      let walkedQueries = 0;
      let seekingQueries = 0;
      for (const prefix of ['', 'd/', 'd/000', 'd/y']) {
        for (const maxKeys of [1, 2, 3, 7, 50, 1000]) {
          for (const { markerKey, within } of starts) {
            const window = windowOf({ prefix, delimiter: '/', maxKeys, markerKey });
            const afterMarker = startAfterMarker(prefix, markerKey);
            if (afterMarker === 'empty') continue;
            const start = within !== undefined && within.key.startsWith(prefix) ? within : afterMarker;
            const seekingSource = multiRowMemorySource(rows, false);
            const walkingSource = multiRowMemorySource(rows, true);
            const seeking = await paginate(seekingSource.source, window, start);
            const walking = await paginate(walkingSource.source, window, start);
            expect({ prefix, maxKeys, markerKey, within, page: walking }).toEqual({ prefix, maxKeys, markerKey, within, page: seeking });
            seekingQueries += seekingSource.stats.queries;
            walkedQueries += walkingSource.stats.queries;
          }
        }
      }
      expect(walkedQueries).toBeLessThan(seekingQueries / 2);
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
