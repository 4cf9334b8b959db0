import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '@cairn/consensus';
import { decodeRecord, encodeRecord } from './record-codec';

export const SNAPSHOT_RECORD_VERSION = 1;
const SNAPSHOT_FILE = 'snapshot.snap';

export class CorruptSnapshotError extends Error {
  constructor(reason: string) {
    super(`snapshot file is corrupt: ${reason}`);
    this.name = 'CorruptSnapshotError';
  }
}

/**
 * The latest snapshot in one CRC-framed file, replaced atomically: write a temporary file,
 * fsync it, rename it over the old one, fsync the directory. A crash leaves the old or the new.
 */
export class SnapshotStoreAdapter {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  save(snapshot: Snapshot): void {
    const tmp = join(this.dir, `${SNAPSHOT_FILE}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, encodeRecord({ v: SNAPSHOT_RECORD_VERSION, snapshot }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, SNAPSHOT_FILE));
    fsyncDirectory(this.dir);
  }

  load(): Snapshot | undefined {
    let buffer: Buffer;
    try {
      buffer = readFileSync(join(this.dir, SNAPSHOT_FILE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const decoded = decodeRecord(buffer, 0);
    if (decoded.kind !== 'record') throw new CorruptSnapshotError(decoded.kind === 'corrupt' ? decoded.reason : 'incomplete file');
    const record = decoded.payload as { v: number; snapshot: Snapshot };
    if (record.v !== SNAPSHOT_RECORD_VERSION) throw new CorruptSnapshotError(`unknown version ${record.v}`);
    return record.snapshot;
  }
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
