import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bucketToken } from '@cairn/protocol';
import { BackupKeys, segmentLine, type SegmentRef } from '../backup/backup-format';
import { sha256 } from '../backup/backup.runner';
import { DirectoryBackupTarget } from '../backup/directory-target.adapter';
import { spillBackupSegments } from './backup-history.reader';
import { BucketHistorySpill, compareKeys, removeLeftoverSpills } from './bucket-history-spill';
import { planAndApplyPages, type HistoryPage } from './restore-pages';

const KEYS = 2_000;
const INLINE_BYTES = 4 * 1024;
const EVENTS_PER_SEGMENT = 500;
const PAGE = { maxKeys: 50, maxBytes: 64 * 1024 };
const BEFORE = '2026-12-02T16:00:00.000Z';
const AFTER = '2026-12-02T17:00:00.000Z';
const AT_MS = Date.parse('2026-12-02T16:30:00Z');

const keyOf = (i: number) => `photos/${String((i * 7919) % KEYS).padStart(5, '0')}`;
const subjectOf = (bucket: string, key: string) => `meta.object.${bucketToken(bucket)}.${Buffer.from(key).toString('hex')}`;
const put = (seq: number, bucket: string, key: string, occurredAt = BEFORE) =>
  segmentLine(
    seq,
    subjectOf(bucket, key),
    JSON.stringify({ id: `e${seq}`, type: 'ObjectVersionPut', schemaVersion: 1, occurredAt, data: { key, versionId: 'null', chunks: [{ hash: 'h', offsetBytes: 0, sizeBytes: INLINE_BYTES, inline: randomBytes(INLINE_BYTES).toString('base64') }] } }),
  );

/**
 * A restore from a backup holds one page of its bucket's history, not the bucket's: a real
 * directory target whose segments hold ~11 MiB of one bucket's events (2,000 keys with 4 KiB
 * inline bodies, in write order, not key order), planned in pages of 50 keys / 64 KiB.
 */
describe('a bucket history from a backup, read back a page at a time', () => {
  let dir = '';
  let target: DirectoryBackupTarget;
  let history: BucketHistorySpill;
  let segments: SegmentRef[];
  let cutSequence = 0;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-history-spill-spec-'));
    target = new DirectoryBackupTarget(path.join(dir, 'target'));
    const lines: string[] = [segmentLine(1, `meta.bucket.${bucketToken('photos')}`, JSON.stringify({ id: 'e1', type: 'BucketCreated', schemaVersion: 1, occurredAt: BEFORE, data: { bucket: 'photos' } }))];
    for (let i = 0; i < KEYS; i++) lines.push(put(lines.length + 1, 'photos', keyOf(i)));
    // Noise a page must not carry: another bucket, a key outside the prefix, a change after the moment, events past the cut.
    lines.push(put(lines.length + 1, 'other', 'photos/00001'));
    lines.push(put(lines.length + 1, 'photos', 'videos/1'));
    lines.push(put(lines.length + 1, 'photos', keyOf(3), AFTER));
    lines.push(put(lines.length + 1, 'photos', keyOf(5)));
    cutSequence = lines.length;
    lines.push(put(lines.length + 1, 'photos', 'photos/after-the-cut'));
    segments = [];
    for (let from = 0; from < lines.length; from += EVENTS_PER_SEGMENT) {
      const body = Buffer.from(lines.slice(from, from + EVENTS_PER_SEGMENT).join(''));
      const key = BackupKeys.segment(from + 1, Math.min(lines.length, from + EVENTS_PER_SEGMENT));
      await target.put(key, body);
      segments.push({ key, fromSequence: from + 1, toSequence: Math.min(lines.length, from + EVENTS_PER_SEGMENT), events: body.length, bytes: body.length, sha256: sha256(body) });
    }
    history = await BucketHistorySpill.open('photos', 'photos/', AT_MS, { owner: 'spec', tmpDir: dir });
    await spillBackupSegments(target, { segments, cutSequence }, history, new AbortController().signal);
  });

  afterAll(async () => {
    await history.close();
    await target.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('plans page by page, each page asking for at most one page of keys, and holds no more than a page of events', async () => {
    const pages: HistoryPage[] = [];
    let totalKeys = 0;
    let largestPageBytes = 0;
    await planAndApplyPages(history, PAGE, new AbortController().signal, async (page) => {
      const bytes = page.keys.reduce((sum, k) => sum + JSON.stringify(k.events).length, 0);
      largestPageBytes = Math.max(largestPageBytes, bytes);
      pages.push({ ...page, keys: page.keys.map((k) => ({ key: k.key, events: k.events.map((e) => ({ seq: e.seq, event: { ...e.event, data: { key: e.event.data['key'] } } })) })) });
    }, (n) => (totalKeys = n));

    expect(totalKeys).toBe(KEYS);
    expect(history.spilledBytes).toBeGreaterThan(KEYS * INLINE_BYTES);
    const held = history.held();
    expect(held.peakKeys).toBeLessThanOrEqual(PAGE.maxKeys);
    // One key can overshoot a page's bytes by itself (it then goes alone): a page is at most its budget plus a key.
    const oneKeyBytes = Math.max(...(await history.keys()).map((k) => k.bytes));
    expect(held.peakEventBytes).toBeLessThanOrEqual(PAGE.maxBytes + oneKeyBytes);
    expect(largestPageBytes).toBeLessThanOrEqual(PAGE.maxBytes + oneKeyBytes);
    // The history is many pages: what was held at once is a small part of it.
    expect(history.spilledBytes).toBeGreaterThan(100 * held.peakEventBytes);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(history.spilledBytes / (PAGE.maxBytes + oneKeyBytes)));
  });

  it('tiles the key space in S3 key order, every key in exactly one page with its events up to the moment', async () => {
    const pages: { after: string; through: string | null; keys: string[]; events: Map<string, number[]> }[] = [];
    await planAndApplyPages(history, PAGE, new AbortController().signal, async (page) => {
      pages.push({ after: page.after, through: page.through, keys: page.keys.map((k) => k.key), events: new Map(page.keys.map((k) => [k.key, k.events.map((e) => e.seq)])) });
    });
    expect(pages[0].after).toBe('');
    expect(pages[pages.length - 1].through).toBeNull();
    for (let i = 1; i < pages.length; i++) expect(pages[i].after).toBe(pages[i - 1].through);
    const keys = pages.flatMap((p) => p.keys);
    const expected = [...new Set(Array.from({ length: KEYS }, (_, i) => keyOf(i)))].sort(compareKeys);
    expect(keys).toEqual(expected);
    for (const p of pages) for (const k of p.keys) expect(compareKeys(k, p.after) > 0 && (p.through === null || compareKeys(k, p.through) <= 0)).toBe(true);
    const eventsOf = (key: string) => pages.find((p) => p.events.has(key))?.events.get(key);
    // keyOf(5) was written again before the moment: both events, in stream order; keyOf(3)'s change after the moment is left out.
    expect(eventsOf(keyOf(5))).toEqual([7, cutSequence]);
    expect(eventsOf(keyOf(3))).toEqual([5]);
    expect(history.bucketEvents.map((e) => e.event.type)).toEqual(['BucketCreated']);
  });

  it('refuses a segment that does not match its hash', async () => {
    const damaged = await BucketHistorySpill.open('photos', '', AT_MS, { owner: 'spec', tmpDir: dir });
    try {
      await target.put(segments[1].key, Buffer.from('{}\n'));
      await expect(spillBackupSegments(target, { segments, cutSequence }, damaged, new AbortController().signal)).rejects.toThrow(/does not match its hash/);
    } finally {
      await damaged.close();
    }
  });

  it("removes the spills its owner left behind, and only its owner's", async () => {
    const place = (owner: string) => ({ owner, tmpDir: path.join(dir, 'leftovers') });
    await fsp.mkdir(place('x').tmpDir, { recursive: true });
    // Two spills of a killed ns.scheduler-1 (never closed), one of ns.scheduler-10 still in use.
    const killed = [await BucketHistorySpill.open('photos', '', AT_MS, place('ns.scheduler-1')), await BucketHistorySpill.open('photos', '', AT_MS, place('ns.scheduler-1'))];
    const other = await BucketHistorySpill.open('photos', '', AT_MS, place('ns.scheduler-10'));
    try {
      expect(await removeLeftoverSpills(place('ns.scheduler-1'))).toBe(2);
      expect(await fsp.readdir(place('x').tmpDir)).toHaveLength(1);
      expect(await removeLeftoverSpills(place('ns.scheduler-1'))).toBe(0);
    } finally {
      await other.close();
      for (const spill of killed) await spill.close(); // their files' handles; the directories are gone
    }
    expect(await fsp.readdir(place('x').tmpDir)).toHaveLength(0);
  });
});
