import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CHUNK_MAINTENANCE_FENCING_RESOURCE, isFencingResourceName } from '@cairn/protocol';
import { FENCING_RESOURCES_MAX, FENCING_TOKEN_FILE, isFencingTokenAcceptable } from '../domain/chunk-layout';
import { FencingResourcesExhaustedError, StaleFencingTokenError } from '../domain/chunk-store.errors';
import { writeFileDurably } from './durable-fs';

/**
 * v1: `{ schemaVersion: 1, highestToken }`, one token for every delete.
 * v2: `{ schemaVersion: 2, resources: [{ resource, highestToken }] }`, sorted by resource.
 */
export const FENCING_FILE_SCHEMA_VERSION = 2;
/** The resource a v1 file's single token is upcast to: every v1 delete was fenced by that lease. */
export const V1_FENCING_RESOURCE = CHUNK_MAINTENANCE_FENCING_RESOURCE;

interface FencingFileV1 {
  readonly schemaVersion: 1;
  readonly highestToken: number;
}

interface FencingFileV2 {
  readonly schemaVersion: typeof FENCING_FILE_SCHEMA_VERSION;
  readonly resources: readonly { readonly resource: string; readonly highestToken: number }[];
}

/**
 * The highest fencing token this node has seen per lock resource, persisted before any delete it
 * guards, so that a restart does not let an older lease holder back in. One resource's tokens
 * never fence another's: a huge token under one lease blocks only that lease's older holders.
 */
export class FileFencingTokenStore {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly highest: Map<string, number>,
    private readonly maxResources: number,
  ) {}

  /**
   * Reads the file; none yet is an empty map. A v1 file is upcast on read and left as it is until
   * the next newer token rewrites the whole file, in the current version.
   */
  static async open(dataDir: string, options: { readonly maxResources?: number } = {}): Promise<FileFencingTokenStore> {
    const file = path.join(dataDir, FENCING_TOKEN_FILE);
    let raw: string | undefined;
    try {
      raw = await fsp.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new FileFencingTokenStore(file, raw === undefined ? new Map() : parseFencingFile(file, raw), options.maxResources ?? FENCING_RESOURCES_MAX);
  }

  /** The highest token seen for `resource`; 0 for one never seen. */
  highestSeen(resource: string): number {
    return this.highest.get(resource) ?? 0;
  }

  /** Resources with a token, sorted. */
  resources(): readonly string[] {
    return [...this.highest.keys()].sort();
  }

  /**
   * Throws StaleFencingTokenError for a token older than the highest seen for `resource`, and
   * FencingResourcesExhaustedError for a new resource past the bound; persists a newer token
   * before it resolves.
   */
  admit(resource: string, token: number): Promise<void> {
    const step = this.chain.then(async () => {
      if (!isFencingResourceName(resource)) throw new Error(`not a fencing resource name: ${JSON.stringify(resource)}`);
      if (!Number.isSafeInteger(token) || token < 0) throw new Error(`not a fencing token: ${token}`);
      const highest = this.highest.get(resource);
      if (highest === undefined && this.highest.size >= this.maxResources) throw new FencingResourcesExhaustedError(resource, this.maxResources);
      if (!isFencingTokenAcceptable(token, highest ?? 0)) throw new StaleFencingTokenError(resource, token, highest ?? 0);
      if (highest === undefined || token > highest) {
        const next = new Map(this.highest).set(resource, token);
        // On disk first: a token is in force only once a crash cannot forget it.
        await this.persist(next);
        this.highest.set(resource, token);
      }
    });
    this.chain = step.catch(() => undefined);
    return step;
  }

  private persist(highest: ReadonlyMap<string, number>): Promise<void> {
    const record: FencingFileV2 = {
      schemaVersion: FENCING_FILE_SCHEMA_VERSION,
      resources: [...highest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([resource, highestToken]) => ({ resource, highestToken })),
    };
    return writeFileDurably(this.file, JSON.stringify(record));
  }
}

/** Upcasts any known version to the per-resource map; anything else refuses to start the node. */
function parseFencingFile(file: string, raw: string): Map<string, number> {
  const unreadable = (why: string) => new Error(`unreadable fencing token file ${file}: ${why}`);
  let stored: FencingFileV1 | FencingFileV2;
  try {
    stored = JSON.parse(raw) as FencingFileV1 | FencingFileV2;
  } catch (error) {
    throw unreadable(error instanceof Error ? error.message : String(error));
  }
  const validToken = (t: unknown): t is number => Number.isSafeInteger(t) && (t as number) >= 0;
  switch (stored?.schemaVersion) {
    case 1:
      if (!validToken(stored.highestToken)) throw unreadable('highestToken is not a token');
      return new Map(stored.highestToken > 0 ? [[V1_FENCING_RESOURCE, stored.highestToken]] : []);
    case 2: {
      if (!Array.isArray(stored.resources)) throw unreadable('resources is not a list');
      const map = new Map<string, number>();
      for (const entry of stored.resources) {
        if (!isFencingResourceName(entry?.resource) || !validToken(entry.highestToken) || map.has(entry.resource)) {
          throw unreadable(`bad entry ${JSON.stringify(entry)}`);
        }
        map.set(entry.resource, entry.highestToken);
      }
      return map;
    }
    default:
      throw unreadable(`unknown schema version ${JSON.stringify((stored as { schemaVersion?: unknown })?.schemaVersion)}`);
  }
}
