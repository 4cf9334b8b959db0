/**
 * S3 lists keys in UTF-8 binary order. For valid UTF-8 that is Unicode code point order, which is
 * also what Postgres compares under the "C" collation. JavaScript's `<` compares UTF-16 code units
 * instead, which disagrees above U+FFFF (an emoji sorts before U+FFFD in UTF-16, after it in UTF-8),
 * so every comparison in listing code goes through here.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const MAX_CODE_POINT = 0x10ffff;
const SURROGATE_FIRST = 0xd800;
const SURROGATE_LAST = 0xdfff;

/**
 * The smallest string greater than every string that starts with `prefix`, in code point order:
 * the prefix with its last code point incremented (dropping trailing U+10FFFF). Null when no such
 * string exists (empty prefix, or only U+10FFFF). Listing uses it as an exclusive upper bound for a
 * prefix, and as the place to seek to after a common prefix, so neither scans what it skips.
 */
export function prefixUpperBound(prefix: string): string | null {
  const codePoints = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  for (let last = codePoints.pop(); last !== undefined; last = codePoints.pop()) {
    if (last < MAX_CODE_POINT) {
      const next = last + 1 === SURROGATE_FIRST ? SURROGATE_LAST + 1 : last + 1;
      return String.fromCodePoint(...codePoints, next);
    }
  }
  return null;
}
