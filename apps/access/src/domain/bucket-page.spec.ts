import { decodeBucketToken, encodeBucketToken, pageBuckets } from './bucket-page';

const buckets = ['alpha', 'beta', 'beta-2', 'gamma', 'zeta'].map((name) => ({ name }));

describe('ListBuckets pages', () => {
  it('answers every bucket without max-buckets', () => expect(pageBuckets(buckets, {}, undefined)).toEqual({ buckets }));

  it('pages by max-buckets with a token naming the last bucket, to the end', () => {
    const first = pageBuckets(buckets, { maxBuckets: 2 }, undefined);
    expect(first.buckets.map((b) => b.name)).toEqual(['alpha', 'beta']);
    const after = decodeBucketToken(first.continuationToken as string);
    expect(after).toBe('beta');
    const second = pageBuckets(buckets, { maxBuckets: 2 }, after);
    expect(second.buckets.map((b) => b.name)).toEqual(['beta-2', 'gamma']);
    const third = pageBuckets(buckets, { maxBuckets: 2 }, decodeBucketToken(second.continuationToken as string));
    expect(third).toEqual({ buckets: [{ name: 'zeta' }] });
  });

  it('filters by prefix before paging', () => {
    expect(pageBuckets(buckets, { prefix: 'beta', maxBuckets: 1 }, undefined)).toEqual({ buckets: [{ name: 'beta' }], continuationToken: encodeBucketToken('beta') });
    expect(pageBuckets(buckets, { prefix: 'beta', maxBuckets: 5 }, undefined).buckets).toHaveLength(2);
  });

  it('refuses tokens it did not write', () => {
    expect(decodeBucketToken('not a token!')).toBeUndefined();
    expect(decodeBucketToken('')).toBeUndefined();
  });
});
