import { BytePacer } from '../adapters/byte-pacer';
import { RegionChunks } from '../adapters/region-chunks';
import { BackupKeys } from './backup-format';
import type { BackupTarget } from './backup-target.port';
import { sha256 } from './backup.runner';

/**
 * One stored chunk (a hash the storage nodes hold) made present in this region again: left alone
 * when a node already holds it, else read from the backup target, checked against its hash and
 * written to the ring at quorum. Garbage collection leaves a chunk written within its retention
 * alone, so it stays until the metadata that references it again has been written.
 */
export async function copyChunkBack(chunks: RegionChunks, target: BackupTarget, hash: string, sizeBytes: number, pace: BytePacer, signal: AbortSignal): Promise<'here' | 'copied'> {
  if (await chunks.present({ hash, offsetBytes: 0, sizeBytes })) return 'here';
  await pace.take(sizeBytes, signal);
  const bytes = await target.get(BackupKeys.chunk(hash));
  if (!bytes) throw new Error(`chunk ${hash} is not in the backup target: verify the backup`);
  if (sha256(bytes) !== hash) throw new Error(`chunk ${hash} in the backup target does not match its hash`);
  const written = await chunks.client.writeChunk(bytes);
  if (written.stored.length === 0) throw new Error(`chunk ${hash} could not be written to any storage node`);
  return 'copied';
}
