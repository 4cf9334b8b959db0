import { XMLParser } from 'fast-xml-parser';
import { S3_ERROR_CODES, isS3ErrorCode } from './s3-error-codes';
import { S3Error, renderS3ErrorXml, toS3Error } from './s3.errors';

describe('S3Error', () => {
  it.each([
    ['NoSuchBucket', 404],
    ['NoSuchKey', 404],
    ['BucketAlreadyExists', 409],
    ['BucketAlreadyOwnedByYou', 409],
    ['BucketNotEmpty', 409],
    ['InvalidBucketName', 400],
    ['KeyTooLongError', 400],
    ['EntityTooLarge', 400],
    ['EntityTooSmall', 400],
    ['InvalidPart', 400],
    ['InvalidPartOrder', 400],
    ['InvalidPartNumber', 416],
    ['NoSuchUpload', 404],
    ['PreconditionFailed', 412],
    ['NotModified', 304],
    ['InvalidRange', 416],
    ['MalformedXML', 400],
    ['InvalidArgument', 400],
    ['InvalidRequest', 400],
    ['MethodNotAllowed', 405],
    ['NotImplemented', 501],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['SlowDown', 503],
    ['RequestTimeout', 400],
    ['IncompleteBody', 400],
    ['MissingContentLength', 411],
    ['BadDigest', 400],
    ['InvalidDigest', 400],
    ['InvalidTag', 400],
    ['SignatureDoesNotMatch', 403],
    ['InvalidAccessKeyId', 403],
    ['AccessDenied', 403],
    ['RequestTimeTooSkewed', 403],
    ['AuthorizationHeaderMalformed', 400],
    ['AuthorizationQueryParametersError', 400],
    ['MissingSecurityHeader', 400],
    ['XAmzContentSHA256Mismatch', 400],
  ] as const)('%s is HTTP %i', (code, status) => {
    const error = new S3Error(code);
    expect(error.httpStatus).toBe(status);
    expect(error.message).toBe(S3_ERROR_CODES[code].message);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('knows its codes', () => {
    expect(isS3ErrorCode('NoSuchKey')).toBe(true);
    expect(isS3ErrorCode('toString')).toBe(false);
    expect(isS3ErrorCode('NoSuchThing')).toBe(false);
  });

  it('renders the S3 error body with details, resource and request id, escaped', () => {
    const error = new S3Error('NoSuchKey', undefined, { Key: 'a<b>&"c' });
    const xml = renderS3ErrorXml(error, { resource: '/bucket/a<b>&"c', requestId: 'REQ123' });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>' +
        '<Key>a&lt;b&gt;&amp;&quot;c</Key><Resource>/bucket/a&lt;b&gt;&amp;&quot;c</Resource><RequestId>REQ123</RequestId></Error>',
    );
    const parsed = new XMLParser({ processEntities: true, htmlEntities: false }).parse(xml);
    expect(parsed.Error.Key).toBe('a<b>&"c');
  });

  it('has no body for 304 and for HEAD', () => {
    expect(new S3Error('NotModified').hasBodyFor('GET')).toBe(false);
    expect(new S3Error('NoSuchKey').hasBodyFor('head')).toBe(false);
    expect(new S3Error('NoSuchKey').hasBodyFor('GET')).toBe(true);
  });

  it('turns unknown failures into InternalError without leaking their message', () => {
    const mapped = toS3Error(new Error('database password is hunter2'));
    expect(mapped.code).toBe('InternalError');
    expect(mapped.message).not.toMatch(/hunter2/);
    const original = new S3Error('SlowDown');
    expect(toS3Error(original)).toBe(original);
  });
});
