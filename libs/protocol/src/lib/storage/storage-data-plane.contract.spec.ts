import { StorageErrorCodes, StorageStatusByErrorCode } from './storage-error-codes';
import { StorageHeaders, StoragePaths } from './storage-data-plane.contract';

describe('the storage data-plane contract', () => {
  const hash = 'ab'.repeat(32);

  it('builds the chunk, listing and verify paths, leaving out absent parameters', () => {
    expect(StoragePaths.chunk(hash)).toBe(`/chunks/${hash}`);
    expect(StoragePaths.chunks()).toBe('/chunks');
    expect(StoragePaths.chunks({ prefix: 'ab', after: undefined, limit: 10, detail: true })).toBe('/chunks?prefix=ab&limit=10&detail=true');
    expect(StoragePaths.verify()).toBe('/chunks/verify');
    expect(StoragePaths.verify({ after: '', limit: 5, maxBytes: 1024 })).toBe('/chunks/verify?after=&limit=5&maxBytes=1024');
  });

  it('gives every storage error code a status, and header names in lower case as Node reads them', () => {
    for (const code of Object.values(StorageErrorCodes)) expect(StorageStatusByErrorCode[code]).toBeGreaterThanOrEqual(400);
    for (const name of Object.values(StorageHeaders)) expect(name).toBe(name.toLowerCase());
    expect(StorageStatusByErrorCode[StorageErrorCodes.ChunkRecentlyWritten]).toBe(409);
  });
});
