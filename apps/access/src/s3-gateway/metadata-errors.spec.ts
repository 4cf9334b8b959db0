import { WriteQuorumNotReachedError } from '@cairn/chunk-client';
import { CairnError } from '@cairn/protocol';
import type { ContentHash } from '@cairn/hashing';
import { mapError } from './metadata-errors';

const HASH = 'a'.repeat(64) as ContentHash;

describe('mapError for chunk writes', () => {
  it('says the storage nodes are out of space when that is why the write quorum was missed', () => {
    const full = new WriteQuorumNotReachedError(HASH, 2, ['storage-1'], [
      { nodeId: 'storage-2', address: 'http://127.0.0.1:1', reason: "HTTP 507 STORAGE_FULL: this node's disk has 10 bytes free and keeps 1073741824 in reserve" },
      { nodeId: 'storage-3', address: 'http://127.0.0.1:2', reason: "HTTP 507 STORAGE_FULL: this node's disk is out of space (ENOSPC)" },
    ]);
    const mapped = mapError(full);
    expect(mapped.error.code).toBe('ServiceUnavailable');
    expect(mapped.error.message).toMatch(/free space/);
    // Expected while the region is full, and the client is told: a refusal with the nodes' reasons, not an internal error.
    expect(mapped).toMatchObject({ internal: false, refusal: expect.stringContaining('STORAGE_FULL') });
  });

  it('keeps the plain 503 for nodes that are away, as an internal error', () => {
    const away = new WriteQuorumNotReachedError(HASH, 2, [], [{ nodeId: 'storage-2', address: 'http://127.0.0.1:1', reason: 'connect ECONNREFUSED' }]);
    expect(mapError(away).error.code).toBe('ServiceUnavailable');
    expect(mapError(away).error.message).not.toMatch(/free space/);
    expect(mapError(away)).toMatchObject({ internal: true });
    expect(mapError(away).refusal).toBeUndefined();
  });
});

describe('mapError for metadata refusals', () => {
  it('gives EntityTooLarge the sizes S3 names', () => {
    const refused = new CairnError('EntityTooLarge', 'an object of 100000 chunks needs more metadata than one event holds', { sizeBytes: 838_860_800_000, chunks: 100_000, maxChunks: 63_800, maxSizeBytes: 535_109_304_320 });
    const mapped = mapError(refused);
    expect(mapped.error.code).toBe('EntityTooLarge');
    expect(mapped.error.details).toMatchObject({ ProposedSize: '838860800000', MaxSizeAllowed: '535109304320' });
  });
});
