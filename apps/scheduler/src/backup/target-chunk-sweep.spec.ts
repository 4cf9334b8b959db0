import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackupKeys, segmentLine, type BackupManifest, type BackupProgressFile, type SegmentRef } from './backup-format';
import { sha256 } from './backup.runner';
import { DirectoryBackupTarget } from './directory-target.adapter';
import { sweepTargetChunks } from './target-chunk-sweep';

const bytes = (name: string) => Buffer.from(`chunk ${name}`);
const hashOf = (name: string) => createHash('sha256').update(bytes(name)).digest('hex');
const put = (seq: number, key: string, chunk: string) =>
  segmentLine(seq, `meta.object.b.${key}`, JSON.stringify({ id: `e${seq}`, type: 'ObjectVersionPut', occurredAt: '2026-12-02T16:00:00Z', data: { key, versionId: 'null', chunks: [{ hash: hashOf(chunk), offsetBytes: 0, sizeBytes: bytes(chunk).length }] } }));

/** A target on a real directory holding three backups of one log; retention has pruned the first. */
describe('sweeping a target of the chunks no surviving backup needs', () => {
  let dir = '';
  let target: DirectoryBackupTarget;

  const segment = async (from: number, lines: string[]): Promise<SegmentRef> => {
    const body = Buffer.from(lines.join(''));
    const key = BackupKeys.segment(from, from + lines.length - 1);
    await target.put(key, body);
    return { key, fromSequence: from, toSequence: from + lines.length - 1, events: lines.length, bytes: body.length, sha256: sha256(body) };
  };
  const manifest = (id: string, previousCutSequence: number, cutSequence: number, segments: SegmentRef[]) =>
    ({ format: 1, id, previousId: previousCutSequence === 0 ? null : 'earlier', previousCutSequence, cutSequence, cutAt: '2026-12-02T16:00:00Z', segments }) as unknown as BackupManifest;

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-sweep-spec-'));
    target = new DirectoryBackupTarget(dir);
    for (const c of ['a', 'b', 'c', 'd', 'e', 'stray']) await target.put(BackupKeys.chunk(hashOf(c)), bytes(c));
  });

  afterEach(async () => {
    await target.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('deletes what only pruned backups needed, keeps what a surviving span needs', async () => {
    // First backup (pruned): k1=a, k1=b (a replaced before the first cut at 2). Second: k2=c (cut 3). Third: k1=d (cut 4).
    const s1 = await segment(1, [put(1, 'k1', 'a'), put(2, 'k1', 'b')]);
    const s2 = await segment(3, [put(3, 'k2', 'c')]);
    const s3 = await segment(4, [put(4, 'k1', 'd')]);
    await target.put(BackupKeys.manifest('b-2'), Buffer.from(JSON.stringify(manifest('b-2', 2, 3, [s1, s2]))));
    await target.put(BackupKeys.manifest('b-3'), Buffer.from(JSON.stringify(manifest('b-3', 3, 4, [s1, s2, s3]))));
    // An unfinished backup after the third: its event names e, already copied.
    const s4 = await segment(5, [put(5, 'k3', 'e')]);
    const progress: BackupProgressFile = { format: 1, id: 'b-4', previousId: 'b-3', previousCutSequence: 4, cutSequence: 5, startedAt: '2026-12-02T16:00:00Z', segments: [s4] };
    await target.put(BackupKeys.progress('b-4'), Buffer.from(JSON.stringify(progress)));

    const report = await sweepTargetChunks(target, new AbortController().signal);
    expect(report).toEqual({ chunks: 6, kept: 4, deleted: 2 });
    // a (alive only before the first cut) and the stray chunk go; b (alive at the second's previous cut), c, d, e stay.
    for (const c of ['a', 'stray']) expect(await target.head(BackupKeys.chunk(hashOf(c)))).toBeNull();
    for (const c of ['b', 'c', 'd', 'e']) expect(await target.head(BackupKeys.chunk(hashOf(c)))).not.toBeNull();
  });

  it('leaves a target without a complete backup alone, and refuses to sweep on a damaged segment', async () => {
    expect(await sweepTargetChunks(target, new AbortController().signal)).toEqual({ chunks: 0, kept: 0, deleted: 0 });
    const s1 = await segment(1, [put(1, 'k1', 'a')]);
    await target.put(BackupKeys.manifest('b-1'), Buffer.from(JSON.stringify(manifest('b-1', 0, 1, [{ ...s1, sha256: '0'.repeat(64) }]))));
    await expect(sweepTargetChunks(target, new AbortController().signal)).rejects.toThrow(/does not match its hash/);
    expect(await target.head(BackupKeys.chunk(hashOf('stray')))).not.toBeNull();
  });
});
