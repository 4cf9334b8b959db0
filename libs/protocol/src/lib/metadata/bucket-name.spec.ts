import { bucketNameProblem, isValidBucketName } from './bucket-name';

describe('bucket names', () => {
  it.each(['abc', 'my-bucket', 'my.bucket.name', 'a1b2c3', '123', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(isValidBucketName(name)).toBe(true);
    expect(bucketNameProblem(name)).toBeNull();
  });

  it.each([
    ['ab', /3 to 63 characters/],
    ['a'.repeat(64), /3 to 63 characters/],
    ['MyBucket', /lowercase/],
    ['my_bucket', /lowercase/],
    ['-abc', /start and end/],
    ['abc.', /start and end/],
    ['a..b', /may not contain "\.\."/],
    ['a.-b', /may not contain "\.-"/],
    ['a-.b', /may not contain "-\."/],
    ['10.0.0.1', /IP address/],
    ['xn--abc', /may not start with "xn--"/],
    ['sthree-abc', /may not start with "sthree-"/],
    ['amzn-s3-demo-abc', /may not start with/],
    ['abc-s3alias', /may not end with "-s3alias"/],
    ['abc--ol-s3', /may not end with "--ol-s3"/],
    ['abc.mrap', /may not end with/],
    ['abc--x-s3', /may not end with/],
    ['abc--table-s3', /may not end with/],
  ])('refuses %s', (name, reason) => {
    expect(bucketNameProblem(name)).toMatch(reason);
    expect(isValidBucketName(name)).toBe(false);
  });
});
