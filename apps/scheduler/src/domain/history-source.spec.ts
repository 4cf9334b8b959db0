import { chooseHistorySource, keyRangePages, type BackupReach, type SourceQuestion } from './history-source';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-12-10T12:00:00Z');
const daysAgo = (d: number) => NOW - d * DAY;

const backup = (over: Partial<BackupReach> = {}): BackupReach => ({ target: 'local', backupId: 'b-1', cutSequence: 100, cutAtMs: daysAgo(3), firstSequence: 1, chunksFromMs: null, ...over });
const ask = (over: Partial<SourceQuestion>): SourceQuestion => ({
  atMs: daysAgo(1),
  nowMs: NOW,
  restoreWindowMs: 7 * DAY,
  windowMarginMs: HOUR,
  live: { firstSequence: 1, firstOccurredAtMs: daysAgo(30) },
  backups: [],
  ...over,
});
const trimmed = { firstSequence: 90, firstOccurredAtMs: daysAgo(4) };

describe('where a restore reads the past from', () => {
  it.each<[string, Partial<SourceQuestion>, string]>([
    ['the live log when it is whole and the moment lies inside the restore window', { backups: [backup()] }, 'live'],
    ['a backup when the moment is older than the window', { atMs: daysAgo(10), backups: [backup({ cutAtMs: daysAgo(8) })] }, 'backup b-1 alone'],
    ['a backup when the live log was trimmed, even inside the window', { atMs: daysAgo(5), live: trimmed, backups: [backup()] }, 'backup b-1 alone'],
    [
      'the newest backup that reaches the moment',
      { atMs: daysAgo(5), live: trimmed, backups: [backup({ backupId: 'b-old', cutSequence: 50, cutAtMs: daysAgo(4.5) }), backup({ backupId: 'b-new', cutSequence: 100 })] },
      'backup b-new alone',
    ],
    ['the backup, then the live log after its cut, for a moment after the cut', { atMs: daysAgo(1), live: trimmed, backups: [backup({ cutSequence: 100 })] }, 'backup b-1 then live from #101'],
    ['the backup and the whole live log after it, a moment older than the window but after the cut', { atMs: daysAgo(8), restoreWindowMs: 7 * DAY, backups: [backup({ cutAtMs: daysAgo(9) })] }, 'backup b-1 then live from #101'],
    ['another target when one backup does not reach back to the start of the log', { atMs: daysAgo(5), live: trimmed, backups: [backup({ target: 'late', backupId: 'b-late', firstSequence: 40, cutSequence: 120 }), backup({ target: 'offsite', backupId: 'b-off' })] }, 'backup b-off alone'],
  ])('%s', (_name, over, expected) => {
    const decision = chooseHistorySource(ask(over));
    if (!decision.ok) throw new Error(decision.reason);
    const s = decision.source;
    expect(s.kind === 'live' ? 'live' : `backup ${s.backupId} ${s.liveFromSequence === null ? 'alone' : `then live from #${s.liveFromSequence}`}`).toBe(expected);
  });

  it.each<[string, Partial<SourceQuestion>, RegExp]>([
    ['a moment in the future', { atMs: NOW + 1_000 }, /in the future/],
    ['older than the window with no backup', { atMs: daysAgo(10) }, /reaches from 2026-12-03T13:00:00.000Z .*no complete backup/],
    ['a trimmed log with no backup', { atMs: daysAgo(5), live: trimmed }, /trimmed \(its oldest event is #90, of 2026-12-06T12:00:00.000Z\)/],
    ['a trimmed log past the backup cut by a gap', { atMs: daysAgo(1), live: { firstSequence: 150, firstOccurredAtMs: daysAgo(2) }, backups: [backup({ cutSequence: 100 })] }, /backups reach target local from the start of the log to 2026-12-07T12:00:00.000Z/],
    ['a moment whose chunks retention has pruned from the target', { atMs: daysAgo(20), live: trimmed, backups: [backup({ chunksFromMs: daysAgo(14) })] }, /target local from 2026-11-26T12:00:00.000Z to/],
  ])('refuses %s, saying what can be restored', (_name, over, reason) => {
    const decision = chooseHistorySource(ask(over));
    expect(decision.ok).toBe(false);
    if (!decision.ok) expect(decision.reason).toMatch(reason);
  });
});

describe('the key ranges a restore from a backup is planned in', () => {
  const keys = (...names: string[]) => names.map((key) => ({ key, size: key.length * 10 }));
  const ranges = (names: string[], maxKeys: number, maxBytes: number) =>
    keyRangePages(keys(...names), (k) => k.size, maxKeys, maxBytes).map((p) => `(${p.after || "''"}, ${p.through ?? 'end'}]: ${p.keys.map((k) => k.key).join(' ')}`);

  it.each<[string, string[], number, number, string[]]>([
    ['no keys: one page over the whole key space', [], 10, 1_000, ["('', end]: "]],
    ['few keys: one page', ['a', 'b'], 10, 1_000, ["('', end]: a b"]],
    ['cut by count, the last page open-ended', ['a', 'b', 'c'], 2, 1_000, ["('', b]: a b", '(b, end]: c']],
    ['cut by bytes', ['aa', 'bb', 'cc'], 10, 45, ["('', bb]: aa bb", '(bb, end]: cc']],
    ['a key larger than a page goes alone', ['a', 'huge-key-name', 'b'], 10, 50, ["('', a]: a", '(a, huge-key-name]: huge-key-name', '(huge-key-name, end]: b']],
  ])('%s', (_name, names, maxKeys, maxBytes, expected) => {
    expect(ranges(names, maxKeys, maxBytes)).toEqual(expected);
  });
});
