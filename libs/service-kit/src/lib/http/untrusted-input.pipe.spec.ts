import { BadRequestException } from '@nestjs/common';
import { MAX_BODY_DEPTH, UntrustedInputPipe, untrustedInputProblem } from './untrusted-input.pipe';

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
};

describe('untrustedInputProblem', () => {
  it.each([
    [1, 0, null],
    ['text', 0, null],
    [null, 0, null],
    [{}, 1, null],
    [{ a: 1 }, 1, null],
    [{ a: { b: 1 } }, 1, 'too deep'],
    [[[[]]], 3, null],
    [[[[]]], 2, 'too deep'],
    ['a\u0000', 5, 'NUL'],
    [{ 'k\u0000': 1 }, 5, 'NUL'],
    [[{ a: ['\u0000'] }], 5, 'NUL'],
  ])('%j within %i levels: %s', (value, max, problem) => {
    expect(untrustedInputProblem(value, max)).toBe(problem);
  });

  it('answers for a body nested far past the stack without overflowing it', () => {
    expect(untrustedInputProblem(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), MAX_BODY_DEPTH)).toBe('too deep');
  });
});

describe('UntrustedInputPipe', () => {
  const pipe = new UntrustedInputPipe();

  it('passes a body within the limit, a query nested deeper (not a body), and text without NUL untouched', () => {
    const body = nested(MAX_BODY_DEPTH);
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    const query = nested(MAX_BODY_DEPTH + 5);
    expect(pipe.transform(query, { type: 'query' })).toBe(query);
    expect(pipe.transform('é \u0001', { type: 'param' })).toBe('é \u0001');
  });

  it('refuses a body nested past the limit with 400', () => {
    expect(() => pipe.transform(nested(MAX_BODY_DEPTH + 1), { type: 'body' })).toThrow(BadRequestException);
  });

  it.each(['body', 'query', 'param'] as const)('refuses NUL in the %s with 400', (type) => {
    expect(() => pipe.transform(type === 'param' ? 'a\u0000' : { owner: 'a\u0000' }, { type })).toThrow(BadRequestException);
  });
});
