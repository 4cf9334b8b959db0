import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { BackupTarget } from './backup-target.port';

/**
 * A backup target on a local or mounted directory. A blob is written to a temporary name,
 * fsync'd, renamed into place and its directory fsync'd: a crash leaves either nothing or the
 * whole blob under its key.
 */
export class DirectoryBackupTarget implements BackupTarget {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `dir:${root}`;
  }

  private file(key: string): string {
    const resolved = path.resolve(this.root, key);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`key ${key} escapes the target directory`);
    return resolved;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const file = this.file(key);
    const dir = path.dirname(file);
    await fsp.mkdir(dir, { recursive: true });
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    const handle = await fsp.open(tmp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, file);
    const dirHandle = await fsp.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }

  async get(key: string): Promise<Buffer | null> {
    return fsp.readFile(this.file(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
  }

  async stream(key: string): Promise<Readable | null> {
    return (await this.head(key)) === null ? null : createReadStream(this.file(key));
  }

  async head(key: string): Promise<number | null> {
    return fsp.stat(this.file(key)).then(
      (s) => s.size,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      },
    );
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = path.resolve(this.root, prefix);
    const walk = async function* (dir: string): AsyncGenerator<string> {
      let entries;
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full);
        else if (!entry.name.includes('.tmp-')) yield full;
      }
    };
    const rootResolved = path.resolve(this.root);
    for await (const full of walk(base)) yield path.relative(rootResolved, full).split(path.sep).join('/');
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.file(key), { force: true });
  }

  async close(): Promise<void> {
    // nothing held open
  }
}
