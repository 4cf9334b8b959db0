import { evaluateCopySourcePreconditions, evaluateReadPreconditions, evaluateWritePreconditions, parseEntityTagList } from './conditional-request';

const object = { etag: '9b2cf535f27731c974343645a3985328', lastModified: new Date('2026-03-14T12:00:00.700Z') };
const NOW_MS = Date.parse('2026-03-15T00:00:00Z');
const before = 'Sat, 14 Mar 2026 11:59:59 GMT';
const same = 'Sat, 14 Mar 2026 12:00:00 GMT';
const after = 'Sat, 14 Mar 2026 12:00:01 GMT';
const tag = `"${object.etag}"`;

describe('evaluateReadPreconditions', () => {
  it.each([
    [{}, 'proceed'],
    [{ ifMatch: tag }, 'proceed'],
    [{ ifMatch: object.etag }, 'proceed'],
    [{ ifMatch: '*' }, 'proceed'],
    [{ ifMatch: `"other", ${tag}` }, 'proceed'],
    [{ ifMatch: '"other"' }, 'precondition-failed'],
    [{ ifMatch: `W/${tag}` }, 'precondition-failed'],
    [{ ifNoneMatch: tag }, 'not-modified'],
    [{ ifNoneMatch: `W/${tag}` }, 'not-modified'],
    [{ ifNoneMatch: '*' }, 'not-modified'],
    [{ ifNoneMatch: '"other"' }, 'proceed'],
    [{ ifModifiedSince: before }, 'proceed'],
    [{ ifModifiedSince: same }, 'not-modified'],
    [{ ifModifiedSince: after }, 'not-modified'],
    [{ ifUnmodifiedSince: before }, 'precondition-failed'],
    [{ ifUnmodifiedSince: same }, 'proceed'],
    [{ ifUnmodifiedSince: after }, 'proceed'],
  ] as const)('%j → %s', (conditions, outcome) => {
    expect(evaluateReadPreconditions(conditions, object, NOW_MS)).toBe(outcome);
  });

  it('S3 precedence: If-Match true wins over If-Unmodified-Since false', () => {
    expect(evaluateReadPreconditions({ ifMatch: tag, ifUnmodifiedSince: before }, object, NOW_MS)).toBe('proceed');
  });

  it('S3 precedence: If-None-Match false with If-Modified-Since true is 304', () => {
    expect(evaluateReadPreconditions({ ifNoneMatch: tag, ifModifiedSince: before }, object, NOW_MS)).toBe('not-modified');
  });

  it('If-None-Match true makes If-Modified-Since irrelevant', () => {
    expect(evaluateReadPreconditions({ ifNoneMatch: '"other"', ifModifiedSince: after }, object, NOW_MS)).toBe('proceed');
  });

  it('412 takes precedence over 304', () => {
    expect(evaluateReadPreconditions({ ifMatch: '"other"', ifNoneMatch: tag }, object, NOW_MS)).toBe('precondition-failed');
  });

  it('ignores dates that do not parse and If-Modified-Since dates in the future', () => {
    expect(evaluateReadPreconditions({ ifModifiedSince: 'yesterday-ish' }, object, NOW_MS)).toBe('proceed');
    expect(evaluateReadPreconditions({ ifUnmodifiedSince: 'garbage' }, object, NOW_MS)).toBe('proceed');
    expect(evaluateReadPreconditions({ ifModifiedSince: 'Sun, 15 Mar 2026 00:00:01 GMT' }, object, NOW_MS)).toBe('proceed');
  });

  it('accepts the obsolete RFC 850 date format', () => {
    expect(evaluateReadPreconditions({ ifModifiedSince: 'Saturday, 14-Mar-26 12:00:00 GMT' }, object, NOW_MS)).toBe('not-modified');
  });
});

describe('evaluateCopySourcePreconditions', () => {
  it('turns every failure into 412, with the same precedence', () => {
    expect(evaluateCopySourcePreconditions({ ifNoneMatch: tag }, object, NOW_MS)).toBe('precondition-failed');
    expect(evaluateCopySourcePreconditions({ ifNoneMatch: tag, ifModifiedSince: before }, object, NOW_MS)).toBe('precondition-failed');
    expect(evaluateCopySourcePreconditions({ ifMatch: tag, ifUnmodifiedSince: before }, object, NOW_MS)).toBe('proceed');
    expect(evaluateCopySourcePreconditions({ ifModifiedSince: after }, object, NOW_MS)).toBe('precondition-failed');
    expect(evaluateCopySourcePreconditions({}, object, NOW_MS)).toBe('proceed');
  });
});

describe('evaluateWritePreconditions', () => {
  it('If-None-Match: * creates only when absent', () => {
    expect(evaluateWritePreconditions({ ifNoneMatch: '*' }, undefined)).toBe('proceed');
    expect(evaluateWritePreconditions({ ifNoneMatch: '*' }, object)).toBe('precondition-failed');
    expect(evaluateWritePreconditions({ ifNoneMatch: tag }, undefined)).toBe('not-implemented');
  });

  it('If-Match replaces only the named version', () => {
    expect(evaluateWritePreconditions({ ifMatch: tag }, object)).toBe('proceed');
    expect(evaluateWritePreconditions({ ifMatch: '"stale"' }, object)).toBe('precondition-failed');
    expect(evaluateWritePreconditions({ ifMatch: tag }, undefined)).toBe('no-such-key');
  });

  it('no conditions always proceed', () => {
    expect(evaluateWritePreconditions({}, object)).toBe('proceed');
    expect(evaluateWritePreconditions({}, undefined)).toBe('proceed');
  });
});

describe('parseEntityTagList', () => {
  it('splits, unquotes and marks weak tags', () => {
    expect(parseEntityTagList(' "a" , W/"b",*, c')).toEqual([
      { tag: 'a', weak: false },
      { tag: 'b', weak: true },
      { tag: '*', weak: false },
      { tag: 'c', weak: false },
    ]);
  });
});
