/**
 * Rules of the node's side of garbage collection and scrub (docs/architecture.md §3): when a chunk
 * counts as touched, whether a conditional delete may go ahead, how far one verify call reads.
 */

/**
 * The touch time the node reports and judges deletes by. Touches of packed chunks live in memory
 * and a file's mtime may lose its last update in a power cut, so nothing is older than the
 * store's opening: a restart never makes a chunk look unused for longer than it has been up.
 */
export function reportedTouchedAtMs(recordedMs: number | undefined, openedAtMs: number): number {
  return recordedMs === undefined ? openedAtMs : Math.max(recordedMs, openedAtMs);
}

/**
 * A file's mtime as the integer ms it was touched with: about half of them read back a hair below
 * (a touch at ...441 reads ...440.999), which truncating would turn into a millisecond earlier.
 */
export function mtimeToTouchedAtMs(mtimeMs: number): number {
  return Math.round(mtimeMs);
}

/** A conditional delete goes ahead only for a chunk touched strictly before `unlessTouchedSinceMs`. */
export function mayDeleteTouchedAt(touchedAtMs: number, unlessTouchedSinceMs: number | undefined): boolean {
  return unlessTouchedSinceMs === undefined || touchedAtMs < unlessTouchedSinceMs;
}

/**
 * Whether a verify call reads the next chunk: always the first, then only while the bytes read
 * stay within the budget, so one call's disk time is bounded by `maxBytes` plus one chunk at most.
 */
export function verifyBudgetAllows(verifiedCount: number, verifiedBytes: number, nextSizeBytes: number, maxBytes: number): boolean {
  return verifiedCount === 0 || verifiedBytes + nextSizeBytes <= maxBytes;
}

/** `x-cairn-unless-touched-since`: decimal epoch ms, or null when absent or malformed. */
export function parseEpochMs(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,15}$/.test(header)) return null;
  return Number(header);
}
