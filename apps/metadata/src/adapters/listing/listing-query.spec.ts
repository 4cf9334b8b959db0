import { MetadataErrorCodes } from '@cairn/protocol';
import { listingWindow } from './listing-query';

describe('listingWindow', () => {
  it('takes the prefix, delimiter and marker a listing asks for', () => {
    expect(listingWindow({ prefix: 'photos/', delimiter: '/', maxKeys: 5 }, 'photos/a')).toEqual({ prefix: 'photos/', delimiter: '/', maxKeys: 5, markerKey: 'photos/a' });
  });

  it.each([
    ['a prefix', { prefix: 'a\u0000' }, null],
    ['a marker', {}, '\u0000'],
  ])('refuses %s holding NUL with InvalidArgument before it reaches Postgres (which failed on it: 500)', (_what, request, marker) => {
    expect(() => listingWindow(request, marker)).toThrow(expect.objectContaining({ code: MetadataErrorCodes.InvalidArgument }));
  });
});
