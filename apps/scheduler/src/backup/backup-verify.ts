import { randomInt } from 'node:crypto';
import { runPool } from '@cairn/service-kit';
import { BackupKeys, ChunkTracker, parseSegment, type BackupManifest } from './backup-format';
import type { BackupTarget } from './backup-target.port';
import { sha256 } from './backup.runner';

export interface VerifyReport {
  readonly backupId: string;
  readonly cutSequence: number;
  readonly segmentsChecked: number;
  readonly segmentsBad: readonly string[];
  readonly configurationOk: boolean;
  /** Chunks the cut needs (every version alive at the cut). */
  readonly chunksNeeded: number;
  readonly chunksChecked: number;
  readonly chunksMissing: readonly string[];
  readonly chunksCorrupt: readonly string[];
  readonly bytesRead: number;
  readonly ok: boolean;
  readonly tookMs: number;
}

const VERIFY_CONCURRENCY = 4;
const PROBLEMS_LISTED_MAX = 20;

/**
 * Re-reads a backup from its target: every segment against the manifest's hash, the configuration,
 * and the chunks the cut needs (all of them, or a random sample) against their content hashes.
 * The chunk set comes from the events themselves, so the check does not trust the manifest's counts.
 */
export async function verifyBackup(target: BackupTarget, manifest: BackupManifest, sample: number | 'all', signal: AbortSignal): Promise<VerifyReport> {
  const started = Date.now();
  const tracker = new ChunkTracker();
  const segmentsBad: string[] = [];
  let bytesRead = 0;
  for (const segment of manifest.segments) {
    signal.throwIfAborted();
    const body = await target.get(segment.key);
    if (!body || sha256(body) !== segment.sha256) {
      segmentsBad.push(segment.key);
      continue;
    }
    bytesRead += body.length;
    for (const e of parseSegment(body.toString('utf8'))) tracker.observe(e.subject, e.event.type, e.event.data ?? {});
  }
  const configuration = await target.get(manifest.configuration.key);
  const configurationOk = configuration !== null && sha256(configuration) === manifest.configuration.sha256;
  const needed = [...tracker.needed().keys()];
  const chosen = sample === 'all' || sample >= needed.length ? needed : pick(needed, sample);
  const chunksMissing: string[] = [];
  const chunksCorrupt: string[] = [];
  await runPool(chosen, VERIFY_CONCURRENCY, signal, async (hash) => {
    const bytes = await target.get(BackupKeys.chunk(hash));
    if (!bytes) chunksMissing.push(hash);
    else if (sha256(bytes) !== hash) chunksCorrupt.push(hash);
    if (bytes) bytesRead += bytes.length;
  });
  return {
    backupId: manifest.id,
    cutSequence: manifest.cutSequence,
    segmentsChecked: manifest.segments.length,
    segmentsBad: segmentsBad.slice(0, PROBLEMS_LISTED_MAX),
    configurationOk,
    chunksNeeded: needed.length,
    chunksChecked: chosen.length,
    chunksMissing: chunksMissing.slice(0, PROBLEMS_LISTED_MAX),
    chunksCorrupt: chunksCorrupt.slice(0, PROBLEMS_LISTED_MAX),
    bytesRead,
    ok: segmentsBad.length === 0 && configurationOk && chunksMissing.length === 0 && chunksCorrupt.length === 0,
    tookMs: Date.now() - started,
  };
}

function pick<T>(items: readonly T[], n: number): T[] {
  const copy = [...items];
  for (let i = 0; i < n; i++) {
    const j = i + randomInt(copy.length - i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}
