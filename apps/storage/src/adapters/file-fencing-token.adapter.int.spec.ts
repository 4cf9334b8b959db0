import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHUNK_MAINTENANCE_FENCING_RESOURCE, StorageErrorCodes } from '@cairn/protocol';
import { FENCING_TOKEN_FILE } from '../domain/chunk-layout';
import { FileFencingTokenStore } from './file-fencing-token.adapter';

describe('FileFencingTokenStore on disk', () => {
  let dataDir: string;
  const file = () => path.join(dataDir, FENCING_TOKEN_FILE);
  const onDisk = async () => JSON.parse(await fsp.readFile(file(), 'utf8')) as unknown;

  beforeEach(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-fencing-'));
  });
  afterEach(async () => {
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the highest token per resource: a huge one on A does not block B, an older one on A is refused', async () => {
    const store = await FileFencingTokenStore.open(dataDir);
    await store.admit('A', Number.MAX_SAFE_INTEGER);
    await store.admit('B', 1);
    await store.admit('B', 1);
    await store.admit('B', 2);
    await expect(store.admit('B', 1)).rejects.toMatchObject({ code: StorageErrorCodes.FencingTokenStale, details: { resource: 'B', token: 1, highestSeen: 2 } });
    await expect(store.admit('A', 3)).rejects.toMatchObject({ code: StorageErrorCodes.FencingTokenStale });
    expect([store.highestSeen('A'), store.highestSeen('B'), store.highestSeen('C')]).toEqual([Number.MAX_SAFE_INTEGER, 2, 0]);

    const reopened = await FileFencingTokenStore.open(dataDir);
    expect(reopened.resources()).toEqual(['A', 'B']);
    await expect(reopened.admit('B', 1)).rejects.toMatchObject({ code: StorageErrorCodes.FencingTokenStale });
    await reopened.admit('B', 2);
  });

  it('serialises admits: of tokens racing on one resource, the highest wins and the file agrees', async () => {
    const store = await FileFencingTokenStore.open(dataDir);
    const outcomes = await Promise.allSettled([5, 3, 9, 7, 9, 1].map((t) => store.admit('gc', t)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(await onDisk()).toEqual({ schemaVersion: 2, resources: [{ resource: 'gc', highestToken: 9 }] });
  });

  it('refuses a new resource past the bound with a clear error, and keeps serving the ones it knows', async () => {
    const store = await FileFencingTokenStore.open(dataDir, { maxResources: 2 });
    await store.admit('a', 1);
    await store.admit('b', 1);
    await expect(store.admit('c', 1)).rejects.toMatchObject({ code: StorageErrorCodes.FencingResourcesExhausted, details: { resource: 'c', limit: 2 } });
    await store.admit('a', 2);
    await store.admit('b', 1);
    expect(store.resources()).toEqual(['a', 'b']);
    expect(await onDisk()).toEqual({ schemaVersion: 2, resources: [{ resource: 'a', highestToken: 2 }, { resource: 'b', highestToken: 1 }] });
  });

  it('upgrades a v1 file: its token becomes the chunk-maintenance resource’s, written as v2 with the next newer token', async () => {
    const v1 = JSON.stringify({ schemaVersion: 1, highestToken: 41 });
    await fsp.writeFile(file(), v1);
    const store = await FileFencingTokenStore.open(dataDir);
    expect(store.resources()).toEqual([CHUNK_MAINTENANCE_FENCING_RESOURCE]);
    await expect(store.admit(CHUNK_MAINTENANCE_FENCING_RESOURCE, 40)).rejects.toMatchObject({ code: StorageErrorCodes.FencingTokenStale });
    await store.admit(CHUNK_MAINTENANCE_FENCING_RESOURCE, 41);
    // Nothing newer yet: the stored file is left as it was, and still reads the same.
    expect(await fsp.readFile(file(), 'utf8')).toBe(v1);
    await store.admit('rebalance', 1);
    expect(await onDisk()).toEqual({
      schemaVersion: 2,
      resources: [
        { resource: 'rebalance', highestToken: 1 },
        { resource: CHUNK_MAINTENANCE_FENCING_RESOURCE, highestToken: 41 },
      ],
    });
    expect((await FileFencingTokenStore.open(dataDir)).highestSeen(CHUNK_MAINTENANCE_FENCING_RESOURCE)).toBe(41);
  });

  it('refuses to start on a file it cannot read rather than forget a guard', async () => {
    for (const bad of [
      '{',
      JSON.stringify({ schemaVersion: 3, resources: [] }),
      JSON.stringify({ schemaVersion: 1, highestToken: 'many' }),
      JSON.stringify({ schemaVersion: 2, resources: [{ resource: 'a b', highestToken: 1 }] }),
      JSON.stringify({ schemaVersion: 2, resources: [{ resource: 'a', highestToken: -1 }] }),
      JSON.stringify({ schemaVersion: 2, resources: [{ resource: 'a', highestToken: 1 }, { resource: 'a', highestToken: 2 }] }),
    ]) {
      await fsp.writeFile(file(), bad);
      await expect(FileFencingTokenStore.open(dataDir)).rejects.toThrow(/unreadable fencing token file/);
    }
  });
});
