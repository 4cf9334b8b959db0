import { BadRequestException, type CallHandler, type ExecutionContext } from '@nestjs/common';
import { of } from 'rxjs';
import { MAX_BODY_DEPTH, UntrustedInputInterceptor, untrustedInputProblem } from './untrusted-input.interceptor';

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

describe('UntrustedInputInterceptor', () => {
  const interceptor = new UntrustedInputInterceptor();
  const handled: CallHandler = { handle: () => of('handled') };
  const http = (input: { body?: unknown; query?: unknown; params?: unknown }) =>
    ({ getType: () => 'http', switchToHttp: () => ({ getRequest: () => input }) }) as unknown as ExecutionContext;
  const rpc = { getType: () => 'rpc' } as unknown as ExecutionContext;

  it('lets an HTTP request within the limits through, query nested deeper than a body may be included', () => {
    expect(() => interceptor.intercept(http({ body: nested(MAX_BODY_DEPTH), query: nested(MAX_BODY_DEPTH + 5), params: { id: 'é \u0001' } }), handled)).not.toThrow();
  });

  it('refuses a body nested past the limit, and NUL in the body, the query or a path parameter, with 400', () => {
    for (const input of [{ body: nested(MAX_BODY_DEPTH + 1) }, { body: { owner: 'a\u0000' } }, { query: { owner: '\u0000' } }, { params: { bucket: 'a\u0000' } }]) {
      expect(() => interceptor.intercept(http(input), handled)).toThrow(BadRequestException);
    }
  });

  it('leaves RPC and events over NATS alone (signed by the cluster; their handlers answer in their own codes)', () => {
    expect(() => interceptor.intercept(rpc, handled)).not.toThrow();
  });
});
