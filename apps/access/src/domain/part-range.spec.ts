import { selectPart } from './part-range';

describe('selectPart (GetObject ?partNumber=N)', () => {
  const multipart = { sizeBytes: 25, partSizes: [10, 10, 5] };

  it.each([
    [1, 0, 9],
    [2, 10, 19],
    [3, 20, 24],
  ])('serves part %i of a multipart object as bytes %i-%i of the whole', (partNumber, start, end) => {
    expect(selectPart(multipart, partNumber)).toEqual({
      kind: 'part',
      start,
      endInclusive: end,
      lengthBytes: end - start + 1,
      contentRange: `bytes ${start}-${end}/25`,
      partsCount: 3,
    });
  });

  it('finds no part beyond the last one', () => {
    expect(selectPart(multipart, 4)).toEqual({ kind: 'unsatisfiable', partsCount: 3 });
  });

  it('serves a single-part object whole as its part 1, and nothing as any other part', () => {
    const single = { sizeBytes: 7, partSizes: null };
    expect(selectPart(single, 1)).toEqual({ kind: 'whole-object' });
    expect(selectPart(single, 2)).toEqual({ kind: 'unsatisfiable', partsCount: 1 });
  });

  it('names no byte range for an empty part', () => {
    expect(selectPart({ sizeBytes: 0, partSizes: [0] }, 1)).toEqual({ kind: 'part', start: 0, endInclusive: -1, lengthBytes: 0, contentRange: null, partsCount: 1 });
  });

  it('never serves a part the object cannot hold', () => {
    expect(() => selectPart({ sizeBytes: 5, partSizes: [10] }, 1)).toThrow();
    expect(() => selectPart(multipart, 0)).toThrow();
  });
});
