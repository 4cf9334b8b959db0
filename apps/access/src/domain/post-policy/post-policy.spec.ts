import { S3Error } from '../../s3/errors/s3.errors';
import { checkPostPolicy, contentLengthRange, parsePostPolicy, type PostPolicy } from './post-policy';

const NOW_MS = Date.parse('2026-12-02T08:00:00Z');

function encode(document: unknown): string {
  return Buffer.from(JSON.stringify(document)).toString('base64');
}

function policy(conditions: unknown[], expiration = '2026-12-02T09:00:00.000Z'): PostPolicy {
  return parsePostPolicy(encode({ expiration, conditions }));
}

function fields(entries: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(entries).map(([name, value]) => [name.toLowerCase(), value]));
}

function refusal(run: () => void): S3Error {
  try {
    run();
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('POST Object policy document', () => {
  const base = [{ bucket: 'photos' }, ['starts-with', '$key', 'user/'], { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }];
  const form = { bucket: 'photos', key: 'user/a.jpg', 'x-amz-algorithm': 'AWS4-HMAC-SHA256', policy: 'p', 'x-amz-signature': 's', file: '' };

  it('accepts a form whose every field meets a condition', () => {
    expect(() => checkPostPolicy(policy(base), fields(form), NOW_MS)).not.toThrow();
  });

  it('refuses an expired policy', () => {
    const error = refusal(() => checkPostPolicy(policy(base, '2026-12-02T07:59:59Z'), fields(form), NOW_MS));
    expect([error.code, error.message]).toEqual(['AccessDenied', 'Invalid according to Policy: Policy expired.']);
  });

  it('refuses an exact-match condition not met, naming it', () => {
    const error = refusal(() => checkPostPolicy(policy([...base, ['eq', '$Content-Type', 'image/jpeg']]), fields({ ...form, 'Content-Type': 'text/html' }), NOW_MS));
    expect(error.code).toBe('AccessDenied');
    expect(error.message).toBe('Invalid according to Policy: Policy Condition failed: ["eq","$Content-Type","image/jpeg"]');
  });

  it('refuses a starts-with not met; an empty prefix takes anything', () => {
    expect(refusal(() => checkPostPolicy(policy(base), fields({ ...form, key: 'other/a.jpg' }), NOW_MS)).message).toContain('Policy Condition failed: ["starts-with","$key","user/"]');
    expect(() => checkPostPolicy(policy([{ bucket: 'photos' }, ['starts-with', '$key', ''], { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }]), fields({ ...form, key: 'x' }), NOW_MS)).not.toThrow();
  });

  it('refuses the wrong bucket', () => {
    expect(refusal(() => checkPostPolicy(policy(base), fields({ ...form, bucket: 'other' }), NOW_MS)).message).toContain('Policy Condition failed: ["eq", "$bucket", "photos"]');
  });

  it('refuses a field no condition covers, but not the exempt ones', () => {
    expect(refusal(() => checkPostPolicy(policy(base), fields({ ...form, 'x-amz-meta-a': '1' }), NOW_MS)).message).toBe('Invalid according to Policy: Extra input fields: x-amz-meta-a');
    expect(() => checkPostPolicy(policy(base), fields({ ...form, 'x-ignore-anything': '1' }), NOW_MS)).not.toThrow();
  });

  it('compares field names case-insensitively', () => {
    expect(() => checkPostPolicy(policy([...base, ['eq', '$X-Amz-Meta-Tag', 'v']]), fields({ ...form, 'x-amz-meta-tag': 'v' }), NOW_MS)).not.toThrow();
  });

  it('reads content-length-range, numbers or strings', () => {
    expect(contentLengthRange(policy([['content-length-range', 1, 1024]]))).toEqual({ minBytes: 1, maxBytes: 1024 });
    expect(contentLengthRange(policy([['content-length-range', '0', '10']]))).toEqual({ minBytes: 0, maxBytes: 10 });
    expect(contentLengthRange(policy([]))).toBeUndefined();
  });

  it('refuses malformed documents as InvalidPolicyDocument', () => {
    const malformed = [
      'not base64!',
      Buffer.from('{nope').toString('base64'),
      encode([]),
      encode({ conditions: [] }),
      encode({ expiration: 'tomorrow', conditions: [] }),
      encode({ expiration: '2026-12-02T09:00:00Z' }),
      encode({ expiration: '2026-12-02T09:00:00Z', conditions: [['eq', 'key', 'x']] }),
      encode({ expiration: '2026-12-02T09:00:00Z', conditions: [['gt', '$key', 'x']] }),
      encode({ expiration: '2026-12-02T09:00:00Z', conditions: [['content-length-range', 10, 1]]}),
      encode({ expiration: '2026-12-02T09:00:00Z', conditions: [{ a: '1', b: '2' }] }),
      encode({ expiration: '2026-12-02T09:00:00Z', conditions: [42] }),
    ];
    for (const text of malformed) expect(refusal(() => parsePostPolicy(text)).code).toBe('InvalidPolicyDocument');
  });
});
