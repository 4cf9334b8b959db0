import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FENCING_TOKEN_FILE, isFencingTokenAcceptable } from '../domain/chunk-layout';
import { StaleFencingTokenError } from '../domain/chunk-store.errors';
import { writeFileDurably } from './durable-fs';

const FENCING_FILE_SCHEMA_VERSION = 1;

/**
 * The highest fencing token this node has seen, persisted before any delete it guards, so that a
 * restart does not let an older lease holder back in.
 */
export class FileFencingTokenStore {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private highest: number,
  ) {}

  static async open(dataDir: string): Promise<FileFencingTokenStore> {
    const file = path.join(dataDir, FENCING_TOKEN_FILE);
    let highest = 0;
    try {
      const stored = JSON.parse(await fsp.readFile(file, 'utf8')) as { schemaVersion: number; highestToken: number };
      if (stored.schemaVersion !== FENCING_FILE_SCHEMA_VERSION || !Number.isSafeInteger(stored.highestToken)) {
        throw new Error(`unreadable fencing token file ${file}`);
      }
      highest = stored.highestToken;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new FileFencingTokenStore(file, highest);
  }

  get highestSeen(): number {
    return this.highest;
  }

  /** Throws StaleFencingTokenError for a token older than the highest seen; persists a newer one. */
  admit(token: number): Promise<void> {
    const step = this.chain.then(async () => {
      if (!isFencingTokenAcceptable(token, this.highest)) throw new StaleFencingTokenError(token, this.highest);
      if (token > this.highest) {
        await writeFileDurably(this.file, JSON.stringify({ schemaVersion: FENCING_FILE_SCHEMA_VERSION, highestToken: token }));
        this.highest = token;
      }
    });
    this.chain = step.catch(() => undefined);
    return step;
  }
}
