import { BadRequestException } from '@nestjs/common';
import { BodyDepthPipe, MAX_BODY_DEPTH, nestsDeeperThan } from './body-depth.pipe';

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
};

describe('nestsDeeperThan', () => {
  it.each([
    [1, 0, false],
    ['text', 0, false],
    [null, 0, false],
    [{}, 1, false],
    [{ a: 1 }, 1, false],
    [{ a: { b: 1 } }, 1, true],
    [[[[]]], 3, false],
    [[[[]]], 2, true],
  ])('%j past %i levels: %s', (value, max, deeper) => {
    expect(nestsDeeperThan(value, max)).toBe(deeper);
  });

  it('answers for a body nested far past the stack without overflowing it', () => {
    expect(nestsDeeperThan(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), MAX_BODY_DEPTH)).toBe(true);
  });
});

describe('BodyDepthPipe', () => {
  const pipe = new BodyDepthPipe();

  it('passes a body within the limit, and anything that is not a body, untouched', () => {
    const body = nested(MAX_BODY_DEPTH);
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    const query = nested(MAX_BODY_DEPTH + 5);
    expect(pipe.transform(query, { type: 'query' })).toBe(query);
  });

  it('refuses a body nested past the limit with 400', () => {
    expect(() => pipe.transform(nested(MAX_BODY_DEPTH + 1), { type: 'body' })).toThrow(BadRequestException);
  });
});
