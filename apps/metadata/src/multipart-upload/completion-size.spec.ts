import type { MultipartUploadCompleted, MultipartUploadInitiated } from '@cairn/protocol';
import { MetadataError } from '../domain/shared/metadata.errors';
import { requireCompletionFits } from './completion-size';

const CHUNK = 8 * 1024 * 1024;
const initiated = { bucket: 'b', key: 'k', uploadId: 'u', userMetadata: { a: 'x'.repeat(1000) } } as unknown as MultipartUploadInitiated['data'];

function completion(chunks: number): MultipartUploadCompleted['data'] {
  return {
    bucket: 'b',
    key: 'k',
    keyId: 'f'.repeat(64),
    uploadId: 'u',
    versionId: 'v',
    etag: `${'e'.repeat(32)}-${chunks}`,
    sizeBytes: chunks * CHUNK,
    chunks: Array.from({ length: chunks }, (_, i) => ({ hash: i.toString(16).padStart(64, '0'), offsetBytes: i * CHUNK, sizeBytes: CHUNK })),
    parts: Array.from({ length: chunks }, (_, i) => ({ partNumber: i + 1, etag: 'e'.repeat(32), sizeBytes: CHUNK })),
    completedAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('requireCompletionFits', () => {
  it('lets a completion through that fits in one message', () => {
    expect(() => requireCompletionFits(completion(1_000), initiated, 1024 * 1024)).not.toThrow();
  });

  it('refuses one that does not with EntityTooLarge naming the largest object that would fit', () => {
    const max = 1024 * 1024 - 16 * 1024;
    let error: unknown;
    try {
      requireCompletionFits(completion(10_000), initiated, max);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MetadataError);
    const refused = error as MetadataError;
    expect(refused.code).toBe('EntityTooLarge');
    expect(refused.message).toMatch(/at most 1032192 .*an object of at most about [\d.]+ GiB in chunks of 8\.0 MiB/);
    const maxChunks = refused.details?.['maxChunks'] as number;
    expect(maxChunks).toBeGreaterThan(1_000);
    expect(maxChunks).toBeLessThan(10_000);
    // The figure named does fit, and a little more does not.
    expect(() => requireCompletionFits(completion(maxChunks - 10), initiated, max)).not.toThrow();
    expect(() => requireCompletionFits(completion(maxChunks + 50), initiated, max)).toThrow(MetadataError);
    expect(refused.details?.['maxSizeBytes']).toBe(maxChunks * CHUNK);
  });
});
