import { compareKeys, prefixUpperBound } from './key-order';

describe('key order', () => {
  it('compares by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FFFD is EF BF BD in UTF-8; U+1F600 is F0 9F 98 80: the emoji sorts after.
    expect('😀' < '\uFFFD').toBe(true);
    expect(compareKeys('😀', '\uFFFD')).toBeGreaterThan(0);
    expect(['b', 'a/', 'a', 'A', '😀', '\uFFFD', 'é'].sort(compareKeys)).toEqual(['A', 'a', 'a/', 'b', 'é', '\uFFFD', '😀']);
  });

  it.each([
    ['a', 'b'],
    ['a/', 'a0'],
    ['photos/', 'photos0'],
    ['é', 'ê'],
    ['\uD7FF', '\uE000'],
    ['a\u{10FFFF}', 'b'],
    ['😀', '😁'],
  ])('bounds the prefix %j by %j', (prefix, bound) => {
    expect(prefixUpperBound(prefix)).toBe(bound);
    expect(compareKeys(prefix, bound)).toBeLessThan(0);
  });

  it('has no bound for the empty prefix or one made only of U+10FFFF', () => {
    expect(prefixUpperBound('')).toBeNull();
    expect(prefixUpperBound('\u{10FFFF}\u{10FFFF}')).toBeNull();
  });

  it('puts every extension of a prefix below its bound, and the bound above them', () => {
    const prefix = 'dir/é';
    const bound = prefixUpperBound(prefix) ?? '';
    expect(bound).not.toBe('');
    for (const suffix of ['', '\u0001', 'z', '\u{10FFFF}', '😀/x']) expect(compareKeys(prefix + suffix, bound)).toBeLessThan(0);
    expect(compareKeys('dir/ê', bound)).toBe(0);
  });
});
