import { BackupKeys, ChunkMark, hashOfChunkKey, parseSegment, type BackupProgressFile, type BackupSpan, type SegmentRef } from './backup-format';
import type { BackupTarget } from './backup-target.port';
import { readManifests, sha256 } from './backup.runner';

export interface TargetSweepReport {
  /** Chunks in the target before the sweep. */
  readonly chunks: number;
  readonly kept: number;
  readonly deleted: number;
}

/**
 * Mark and sweep of a target's chunks after retention pruned backups (docs/backups.md): the mark is
 * every chunk a surviving backup needs to restore any moment of its span (ChunkMark), plus the
 * spans of unfinished backups (a progress file without a manifest, whose copied chunks a resumed
 * run counts on); the sweep deletes every other chunk. It runs under the target's backup lease,
 * so no backup of this region writes to the target meanwhile. A target with no complete backup
 * is left alone.
 */
export async function sweepTargetChunks(target: BackupTarget, signal: AbortSignal): Promise<TargetSweepReport> {
  const manifests = await readManifests(target);
  const newest = manifests.at(-1);
  if (!newest) return { chunks: 0, kept: 0, deleted: 0 };
  const complete = new Set(manifests.map((m) => m.id));
  const spans: BackupSpan[] = manifests.map((m) => ({ previousCutSequence: m.previousCutSequence, cutSequence: m.cutSequence }));
  const segments = new Map<string, SegmentRef>(newest.segments.map((s) => [s.key, s]));
  for await (const key of target.list(BackupKeys.backupsPrefix)) {
    const m = /^backups\/([^/]+)\/progress\.json$/.exec(key);
    if (!m || complete.has(m[1])) continue;
    const body = await target.get(key);
    if (!body) continue;
    const progress = JSON.parse(body.toString('utf8')) as BackupProgressFile;
    spans.push({ previousCutSequence: progress.previousCutSequence, cutSequence: progress.cutSequence });
    for (const s of progress.segments) if (!segments.has(s.key)) segments.set(s.key, s);
  }

  const mark = new ChunkMark(spans);
  for (const segment of [...segments.values()].sort((a, b) => a.fromSequence - b.fromSequence)) {
    signal.throwIfAborted();
    const body = await target.get(segment.key);
    // An unreadable segment leaves the mark incomplete: sweep nothing rather than too much.
    if (!body || sha256(body) !== segment.sha256) throw new Error(`segment ${segment.key} is missing or does not match its hash: the target's chunks are not swept (verify the backup)`);
    for (const e of parseSegment(body.toString('utf8'))) mark.observe(e);
  }
  const keep = mark.marked();

  let chunks = 0;
  const doomed: string[] = [];
  for await (const key of target.list(BackupKeys.chunksPrefix)) {
    const hash = hashOfChunkKey(key);
    if (!hash) continue;
    chunks++;
    if (!keep.has(hash)) doomed.push(key);
  }
  for (const key of doomed) {
    signal.throwIfAborted();
    await target.delete(key);
  }
  return { chunks, kept: chunks - doomed.length, deleted: doomed.length };
}
