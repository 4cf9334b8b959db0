import { selectRange } from './byte-range';

describe('selectRange', () => {
  const size = 1000;

  it.each([
    ['bytes=0-9', 0, 9],
    ['bytes=0-0', 0, 0],
    ['bytes=990-', 990, 999],
    ['bytes=990-5000', 990, 999],
    ['bytes=-10', 990, 999],
    ['bytes=-5000', 0, 999],
    ['bytes=999-999', 999, 999],
    ['Bytes= 5 - 9 ', 5, 9],
  ])('%s → %i-%i', (header, start, end) => {
    expect(selectRange(header, size)).toEqual({
      kind: 'partial',
      start,
      endInclusive: end,
      lengthBytes: end - start + 1,
      contentRange: `bytes ${start}-${end}/${size}`,
    });
  });

  it.each([undefined, 'bytes=0-1,5-6', 'items=0-9', 'bytes=9-0', 'bytes=-', 'bytes=a-b', 'bytes=0-9x', 'bytes=1234567890123456-'])('serves the whole object for %j', (header) => {
    expect(selectRange(header, size)).toEqual({ kind: 'full' });
  });

  it.each([
    ['bytes=1000-', size],
    ['bytes=5000-6000', size],
    ['bytes=-0', size],
    ['bytes=0-', 0],
    ['bytes=-5', 0],
  ])('%s on %i bytes is unsatisfiable', (header, objectSize) => {
    expect(selectRange(header, objectSize)).toEqual({ kind: 'unsatisfiable', contentRange: `bytes */${objectSize}` });
  });
});
