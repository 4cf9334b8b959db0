import { S3Error } from '../errors/s3.errors';
import { assertCopySourcePreconditions, assertReadPreconditions, assertWritePreconditions, resolveRange } from './preconditions';

const object = { etag: 'abc', lastModified: new Date('2026-03-14T12:00:00Z') };
const NOW_MS = Date.parse('2026-03-15T00:00:00Z');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof S3Error ? `${error.code} ${error.httpStatus}` : String(error);
  }
  return undefined;
}

describe('S3 preconditions from request headers', () => {
  it('maps read outcomes to 304 and 412', () => {
    expect(codeOf(() => assertReadPreconditions({ 'if-none-match': '"abc"' }, object, NOW_MS))).toBe('NotModified 304');
    expect(codeOf(() => assertReadPreconditions({ 'if-match': '"zzz"' }, object, NOW_MS))).toBe('PreconditionFailed 412');
    expect(codeOf(() => assertReadPreconditions({ 'if-match': '"abc"' }, object, NOW_MS))).toBeUndefined();
  });

  it('reads x-amz-copy-source-if-* for copies, never 304', () => {
    expect(codeOf(() => assertCopySourcePreconditions({ 'x-amz-copy-source-if-none-match': '"abc"' }, object, NOW_MS))).toBe('PreconditionFailed 412');
    expect(codeOf(() => assertCopySourcePreconditions({ 'if-none-match': '"abc"' }, object, NOW_MS))).toBeUndefined();
  });

  it('maps write outcomes', () => {
    expect(codeOf(() => assertWritePreconditions({ 'if-none-match': '*' }, object))).toBe('PreconditionFailed 412');
    expect(codeOf(() => assertWritePreconditions({ 'if-match': '"abc"' }, undefined))).toBe('NoSuchKey 404');
    expect(codeOf(() => assertWritePreconditions({ 'if-none-match': '"abc"' }, undefined))).toBe('NotImplemented 501');
    expect(codeOf(() => assertWritePreconditions({ 'if-match': '"abc"' }, object))).toBeUndefined();
  });

  it('maps an unsatisfiable range to InvalidRange with the object size', () => {
    try {
      resolveRange({ range: 'bytes=100-' }, 10);
      throw new Error('expected InvalidRange');
    } catch (error) {
      expect(error).toMatchObject({ code: 'InvalidRange', httpStatus: 416, details: { RangeRequested: 'bytes=100-', ActualObjectSize: '10' } });
    }
    expect(resolveRange({ range: 'bytes=2-3' }, 10)).toMatchObject({ kind: 'partial', start: 2, endInclusive: 3 });
    expect(resolveRange({}, 10)).toEqual({ kind: 'full' });
  });
});
