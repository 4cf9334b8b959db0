import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackupKeys, backupsToPrune, chunksToKeep, ChunkTracker, hashOfChunkKey, newBackupId, parseSegment, segmentLine, type SegmentEvent } from './backup-format';
import { DirectoryBackupTarget } from './directory-target.adapter';

const h = (c: string) => c.repeat(64);
const chunk = (c: string, size = 10) => ({ hash: h(c), offsetBytes: 0, sizeBytes: size });

describe('backup format', () => {
  it('names chunks, segments and backups so they sort and parse back', () => {
    expect(BackupKeys.chunk(h('a'))).toBe(`chunks/aa/${h('a')}`);
    expect(hashOfChunkKey(`chunks/aa/${h('a')}`)).toBe(h('a'));
    expect(hashOfChunkKey('chunks/aa/x.tmp-1')).toBeNull();
    expect(BackupKeys.segment(1, 5000) < BackupKeys.segment(5001, 10000)).toBe(true);
    expect(newBackupId(Date.parse('2026-12-02T16:45:00.123Z'), '1a2b')).toBe('b-20261202T164500Z-1a2b');
  });

  it('a segment line carries the envelope exactly as stored', () => {
    const envelope = '{"id":"e1","type":"BucketCreated","occurredAt":"2026-12-02T16:00:00.000Z","data":{"bucket":"b"}}';
    const [event] = parseSegment(segmentLine(7, 'meta.bucket.b', envelope));
    expect(event).toEqual({ seq: 7, subject: 'meta.bucket.b', event: JSON.parse(envelope) });
  });

  it('tracks which chunks a run of events leaves referenced', () => {
    const t = new ChunkTracker();
    t.observe('k1', 'ObjectVersionPut', { versionId: 'v1', chunks: [chunk('a'), chunk('b')] });
    t.observe('k1', 'ObjectVersionPut', { versionId: 'v2', chunks: [chunk('c')] });
    t.observe('k1', 'ObjectVersionDeleted', { versionId: 'v1' });
    // A new null version replaces the old null one.
    t.observe('k2', 'ObjectVersionPut', { versionId: 'null', chunks: [chunk('d')] });
    t.observe('k2', 'ObjectVersionPut', { versionId: 'null', chunks: [chunk('e')] });
    // Inline chunks live in the event: nothing to copy.
    t.observe('k3', 'ObjectVersionPut', { versionId: 'null', chunks: [{ ...chunk('f'), inline: 'aGk=' }] });
    t.observe('u1', 'UploadPartRecorded', { partNumber: 1, chunks: [chunk('g')] });
    expect([...t.needed().keys()].sort()).toEqual([h('c'), h('e')]);
    expect([...t.all().keys()].sort()).toEqual([h('a'), h('b'), h('c'), h('d'), h('e'), h('g')]);
  });

  it('erasure-coded chunks are their shards', () => {
    const t = new ChunkTracker();
    t.observe('k', 'ObjectVersionPut', { versionId: 'v', chunks: [{ ...chunk('a', 40), erasure: { dataShards: 2, parityShards: 1, shardSizeBytes: 20, shards: [h('1'), h('2'), h('3')] } }] });
    expect([...t.needed()]).toEqual([
      [h('1'), 20],
      [h('2'), 20],
      [h('3'), 20],
    ]);
  });

  it('retention keeps the newest complete backups, never none', () => {
    const m = (id: string, cutSequence: number) => ({ id, cutSequence });
    expect(backupsToPrune([m('b1', 10), m('b3', 30), m('b2', 20)], 2)).toEqual(['b1']);
    expect(backupsToPrune([m('b1', 10)], 0)).toEqual([]);
  });
});

describe('directory backup target', () => {
  it('writes whole blobs under their keys, lists, reads and deletes them', async () => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-backup-target-'));
    try {
      const target = new DirectoryBackupTarget(root);
      await target.put(`chunks/aa/${h('a')}`, Buffer.from('chunk'));
      await target.put('backups/b1/manifest.json', Buffer.from('{}'));
      expect(await target.head(`chunks/aa/${h('a')}`)).toBe(5);
      expect((await target.get('backups/b1/manifest.json'))?.toString()).toBe('{}');
      expect(await target.get('nope')).toBeNull();
      const keys: string[] = [];
      for await (const key of target.list('chunks/')) keys.push(key);
      expect(keys).toEqual([`chunks/aa/${h('a')}`]);
      await target.delete('backups/b1/manifest.json');
      expect(await target.head('backups/b1/manifest.json')).toBeNull();
      await expect(target.put('../escape', Buffer.from('x'))).rejects.toThrow(/escapes/);
    } finally {
      await fsp.rm(root, { recursive: true, force: true });
    }
  });

  describe('which chunks the target keeps for the backups retention leaves', () => {
    // The log: seq 1-2 before the first cut (2), 3-4 before the second (4), 5-6 before the third (6).
    let seq = 0;
    const ev = (subject: string, type: string, data: Record<string, unknown>): SegmentEvent => ({ seq: ++seq, subject, event: { id: `e${seq}`, type, occurredAt: '2026-12-02T16:00:00Z', data } });
    const log = [
      ev('k1', 'ObjectVersionPut', { versionId: 'null', chunks: [chunk('a')] }), // 1: a, replaced at 3
      ev('k2', 'ObjectVersionPut', { versionId: 'null', chunks: [chunk('b')] }), // 2: b, alive to the end
      ev('k1', 'ObjectVersionPut', { versionId: 'null', chunks: [chunk('c')] }), // 3: c, deleted at 5
      ev('k3', 'ObjectVersionPut', { versionId: 'null', chunks: [chunk('d')] }), // 4: d, replaced at 6
      ev('k1', 'ObjectVersionDeleted', { versionId: 'null' }), // 5
      ev('k3', 'ObjectVersionPut', { versionId: 'null', chunks: [chunk('e')] }), // 6: e
    ];
    const first = { previousCutSequence: 0, cutSequence: 2 };
    const second = { previousCutSequence: 2, cutSequence: 4 };
    const third = { previousCutSequence: 4, cutSequence: 6 };
    const kept = (spans: { previousCutSequence: number; cutSequence: number }[]) => [...chunksToKeep(log, spans)].map((x) => x[0]).sort().join('');

    it.each([
      ['every backup kept: every chunk ever named', [first, second, third], 'abcde'],
      ['the first pruned: a was still alive at its cut, where the second begins', [second, third], 'abcde'],
      ['only the newest: what was alive at its previous cut and what its events name; a goes', [third], 'bcde'],
      ['only the first: what its span named', [first], 'ab'],
      ['only the middle one: alive at its previous cut (a, b) and named after it (c, d)', [second], 'abcd'],
    ])('%s', (_name, spans, expected) => {
      expect(kept(spans)).toBe(expected);
    });

    it('a chunk alive at a previous cut is kept though deleted before the cut', () => {
      // c was alive at 4 (the third's previous cut) and deleted at 5: a moment between needs it.
      expect(chunksToKeep(log, [third]).has(h('c'))).toBe(true);
      expect(chunksToKeep(log, [{ previousCutSequence: 5, cutSequence: 6 }]).has(h('c'))).toBe(false);
    });
  });
});
