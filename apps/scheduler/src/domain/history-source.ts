/**
 * Where a point-in-time restore (or a read of the past) takes the bucket's history from
 * (docs/backups.md): the live event log where it still reaches the moment, a backup where it does
 * not, else a refusal that says which moments can be restored. Pure: the reach of the live log and
 * of each backup come in as plain numbers.
 */

export interface LiveLogReach {
  /** The oldest sequence META still holds: 1 when nothing was ever trimmed from its front. */
  readonly firstSequence: number;
  /** When META's oldest event occurred; null when META is empty. */
  readonly firstOccurredAtMs: number | null;
}

export interface BackupReach {
  readonly target: string;
  readonly backupId: string;
  readonly cutSequence: number;
  /** When the event at the cut occurred: the latest moment the backup's events reach. */
  readonly cutAtMs: number;
  /** The first sequence its segments hold: 1 when its events reach back to the start of the log. */
  readonly firstSequence: number;
  /**
   * The earliest moment whose chunks the target still keeps (retention prunes older backups and
   * the chunks only they needed): the previous cut of the target's oldest backup; null when that
   * backup was the first (every moment from the start of the log).
   */
  readonly chunksFromMs: number | null;
}

export interface SourceQuestion {
  readonly atMs: number;
  readonly nowMs: number;
  /** CAIRN_RESTORE_WINDOW: garbage collection keeps what a moment this recent referenced. */
  readonly restoreWindowMs: number;
  /** How far inside the window a moment restored from the live log must lie. */
  readonly windowMarginMs: number;
  readonly live: LiveLogReach;
  readonly backups: readonly BackupReach[];
}

export type HistorySource =
  | { readonly kind: 'live' }
  | {
      readonly kind: 'backup';
      readonly target: string;
      readonly backupId: string;
      readonly cutSequence: number;
      readonly cutAt: string;
      /** Events after the cut are read from the live log from this sequence on (a moment after the cut); null: the backup alone. */
      readonly liveFromSequence: number | null;
    };

export type SourceDecision = { readonly ok: true; readonly source: HistorySource } | { readonly ok: false; readonly reason: string };

export function chooseHistorySource(q: SourceQuestion): SourceDecision {
  if (q.atMs > q.nowMs) return { ok: false, reason: `${iso(q.atMs)} is in the future` };
  const liveComplete = q.live.firstSequence <= 1;
  const windowFromMs = q.nowMs - q.restoreWindowMs + q.windowMarginMs;
  if (liveComplete && q.atMs >= windowFromMs) return { ok: true, source: { kind: 'live' } };

  // Backups whose events reach back to the start of the log, and whose target still keeps the chunks of the moment.
  const usable = q.backups
    .filter((b) => b.firstSequence <= 1 && (b.chunksFromMs === null || b.chunksFromMs <= q.atMs))
    .sort((a, b) => b.cutSequence - a.cutSequence || b.cutAtMs - a.cutAtMs);
  const covering = usable.find((b) => b.cutAtMs >= q.atMs);
  if (covering) return { ok: true, source: fromBackup(covering, null) };
  // A moment after every cut: the newest backup's events, then the live log's from where the backup stops.
  const bridged = usable.find((b) => q.live.firstSequence <= b.cutSequence + 1);
  if (bridged) return { ok: true, source: fromBackup(bridged, bridged.cutSequence + 1) };

  return { ok: false, reason: `${iso(q.atMs)} cannot be restored: ${reachOf(q, liveComplete, windowFromMs)}` };
}

function fromBackup(b: BackupReach, liveFromSequence: number | null): HistorySource {
  return { kind: 'backup', target: b.target, backupId: b.backupId, cutSequence: b.cutSequence, cutAt: iso(b.cutAtMs), liveFromSequence };
}

/** What can be restored, in words, for the refusal. */
function reachOf(q: SourceQuestion, liveComplete: boolean, windowFromMs: number): string {
  const live = liveComplete
    ? `the live event log reaches from ${iso(Math.max(0, windowFromMs))} (the restore window less ${Math.round(q.windowMarginMs / 60_000)} minutes)`
    : `the live event log was trimmed (its oldest event is #${q.live.firstSequence}${q.live.firstOccurredAtMs === null ? '' : `, of ${iso(q.live.firstOccurredAtMs)}`}) and reaches no moment alone`;
  const reaching = q.backups.filter((b) => b.firstSequence <= 1);
  if (reaching.length === 0) return `${live}; no complete backup reaches back to the start of the log`;
  const byTarget = new Map<string, BackupReach[]>();
  for (const b of reaching) byTarget.set(b.target, [...(byTarget.get(b.target) ?? []), b]);
  const ranges = [...byTarget].map(([target, backups]) => {
    const from = backups.some((b) => b.chunksFromMs === null) ? null : Math.min(...backups.map((b) => b.chunksFromMs ?? 0));
    const to = Math.max(...backups.map((b) => b.cutAtMs));
    return `target ${target} from ${from === null ? 'the start of the log' : iso(from)} to ${iso(to)}`;
  });
  return `${live}; backups reach ${ranges.join(', ')}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A page of a restore from a backup: the keys (with their events) in (after, through]; through null on the last page. */
export interface KeyRangePage<K extends { readonly key: string }> {
  readonly keys: readonly K[];
  readonly after: string;
  readonly through: string | null;
}

/**
 * Keys in key order cut into pages of at most `maxKeys` keys and about `maxBytes` (a key larger
 * than that goes alone). The ranges tile the whole key space, so every key of the target lies in
 * exactly one page: the first starts at '' and the last runs to the end (through null), even when
 * there are no keys at all.
 */
export function keyRangePages<K extends { readonly key: string }>(keys: readonly K[], sizeOf: (k: K) => number, maxKeys: number, maxBytes: number): KeyRangePage<K>[] {
  const pages: KeyRangePage<K>[] = [];
  let current: K[] = [];
  let bytes = 0;
  let after = '';
  for (const k of keys) {
    const size = sizeOf(k);
    if (current.length > 0 && (current.length >= maxKeys || bytes + size > maxBytes)) {
      const through = current[current.length - 1].key;
      pages.push({ keys: current, after, through });
      after = through;
      current = [];
      bytes = 0;
    }
    current.push(k);
    bytes += size;
  }
  pages.push({ keys: current, after, through: null });
  return pages;
}
