import { keyRangePages } from '../domain/history-source';
import type { BucketHistorySpill, KeyEvents } from './bucket-history-spill';

/** How much of a bucket's history one request to metadata carries at most. */
export interface PageLimits {
  readonly maxKeys: number;
  /** Bytes of events (the bucket's own events count against each page too). */
  readonly maxBytes: number;
}

/** A page of a restore (or a listing) from a backup: the keys in (after, through] with their events. */
export interface HistoryPage {
  readonly keys: readonly KeyEvents[];
  readonly after: string;
  readonly through: string | null;
}

/**
 * Walks a bucket's history page by page: the ranges tile the key space (keyRangePages), and each
 * page's events are read back from the spill file only when its turn comes, so no more than one
 * page of events is held at a time. `onPlanned` hears how many keys there are before the first page.
 */
export async function planAndApplyPages(
  history: BucketHistorySpill,
  limits: PageLimits,
  signal: AbortSignal,
  onPage: (page: HistoryPage) => Promise<void | 'stop'>,
  onPlanned: (totalKeys: number) => void = () => undefined,
): Promise<void> {
  const keys = await history.keys();
  onPlanned(keys.length);
  const bucketBytes = JSON.stringify(history.bucketEvents).length;
  for (const page of keyRangePages(keys, (k) => k.bytes, limits.maxKeys, Math.max(1, limits.maxBytes - bucketBytes))) {
    signal.throwIfAborted();
    const keysWithEvents = await history.eventsOf(page.keys);
    if ((await onPage({ keys: keysWithEvents, after: page.after, through: page.through })) === 'stop') return;
  }
}
