import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** fsync a directory so that a rename or create inside it survives a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p, then fsync the parent of each directory it created. */
export async function ensureDirectoryDurably(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      await fsp.stat(current);
      break;
    } catch {
      missing.push(current);
      const parent = path.dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  if (missing.length === 0) return;
  await fsp.mkdir(dir, { recursive: true });
  for (const created of missing) await fsyncDirectory(path.dirname(created));
}

/** Write a small file atomically: temp name, fsync, rename, fsync the directory. */
export async function writeFileDurably(file: string, contents: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const fh = await fsp.open(temp, 'w');
  try {
    await fh.writeFile(contents);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(temp, file);
  await fsyncDirectory(path.dirname(file));
}
