import { bucketNameProblem, isValidBucketName } from './bucket-name';

describe('bucket names', () => {
  it.each(['abc', 'my-bucket', 'my.bucket.name', 'a1b2c3', '123', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(isValidBucketName(name)).toBe(true);
  });

  it.each([
    ['ab', /between 3 and 63/],
    ['a'.repeat(64), /between 3 and 63/],
    ['MyBucket', /lowercase/],
    ['my_bucket', /lowercase/],
    ['-abc', /begin and end/],
    ['abc.', /begin and end/],
    ['a..b', /adjacent periods/],
    ['a.-b', /period next to a hyphen/],
    ['10.0.0.1', /IP address/],
    ['xn--abc', /reserved prefix/],
    ['sthree-abc', /reserved prefix/],
    ['abc-s3alias', /reserved suffix/],
    ['abc--ol-s3', /reserved suffix/],
  ])('refuses %s', (name, reason) => {
    expect(bucketNameProblem(name)).toMatch(reason);
  });
});
