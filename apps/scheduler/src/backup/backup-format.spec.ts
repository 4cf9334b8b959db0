import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackupKeys, backupsToPrune, ChunkTracker, hashOfChunkKey, newBackupId, parseSegment, segmentLine } from './backup-format';
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
});
