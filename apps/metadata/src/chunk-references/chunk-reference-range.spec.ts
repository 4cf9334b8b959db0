import { CHUNK_REFERENCES_LIMIT_DEFAULT, CHUNK_REFERENCES_LIMIT_MAX, MetadataErrorCodes } from '@cairn/protocol';
import { MetadataError } from '../domain/shared/metadata.errors';
import { chunkReferenceRange } from './chunk-reference-range';

const HASH = 'ab'.repeat(32);

function codeOf(request: unknown): string {
  try {
    chunkReferenceRange(request);
    return 'OK';
  } catch (error) {
    return error instanceof MetadataError ? error.code : 'not a MetadataError';
  }
}

describe('chunkReferenceRange', () => {
  it('defaults to the whole hash space, a page of the default size', () => {
    const whole = { after: '', before: null, limit: CHUNK_REFERENCES_LIMIT_DEFAULT };
    expect(chunkReferenceRange({})).toEqual(whole);
    expect(chunkReferenceRange(null)).toEqual(whole);
    expect(chunkReferenceRange(undefined)).toEqual(whole);
    expect(chunkReferenceRange({ after: null, before: null, limit: null })).toEqual(whole);
  });

  it('takes a full hash after, a hash or hash prefix before, and a limit up to the maximum', () => {
    expect(chunkReferenceRange({ after: HASH, before: 'c', limit: CHUNK_REFERENCES_LIMIT_MAX })).toEqual({ after: HASH, before: 'c', limit: CHUNK_REFERENCES_LIMIT_MAX });
    expect(chunkReferenceRange({ after: '', before: HASH, limit: 1 })).toEqual({ after: '', before: HASH, limit: 1 });
  });

  it.each([
    ['a prefix as after', { after: 'ab' }],
    ['upper-case hex', { after: HASH.toUpperCase() }],
    ['a hash too long', { after: `${HASH}0` }],
    ['a non-hex after', { after: 'g'.repeat(64) }],
    ['a number as after', { after: 5 }],
    ['an empty before', { before: '' }],
    ['a non-hex before', { before: 'xyz' }],
    ['a limit of 0', { limit: 0 }],
    ['a limit above the maximum', { limit: CHUNK_REFERENCES_LIMIT_MAX + 1 }],
    ['a fractional limit', { limit: 1.5 }],
    ['a limit as text', { limit: '10' }],
    ['an unknown field', { afterr: HASH }],
    ['an array', [HASH]],
    ['a string', HASH],
  ])('refuses %s as InvalidArgument', (_, request) => {
    expect(codeOf(request)).toBe(MetadataErrorCodes.InvalidArgument);
  });
});
