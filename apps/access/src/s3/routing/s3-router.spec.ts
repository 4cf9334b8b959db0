import { S3Error } from '../errors/s3.errors';
import { parseRequestTarget } from './request-target';
import { parseCopySource, routeS3Request, virtualHostBucket, type S3Route } from './s3-router';

const config = { baseDomains: ['s3.cairn.test', 'localhost'] };

function route(method: string, target: string, headers: Record<string, string> = {}, host = '127.0.0.1:9000'): S3Route {
  return routeS3Request({ method, host, target: parseRequestTarget(target), headers }, config);
}

function routeError(method: string, target: string, headers: Record<string, string> = {}, host?: string): string {
  try {
    route(method, target, headers, host);
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  throw new Error(`expected ${method} ${target} to be refused`);
}

function refusal(method: string, target: string, headers: Record<string, string> = {}): S3Error {
  try {
    route(method, target, headers);
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error(`expected ${method} ${target} to be refused`);
}

describe('routeS3Request', () => {
  it.each([
    ['GET', '/', 'ListBuckets', undefined, undefined],
    ['PUT', '/photos', 'CreateBucket', 'photos', undefined],
    ['PUT', '/photos/', 'CreateBucket', 'photos', undefined],
    ['DELETE', '/photos', 'DeleteBucket', 'photos', undefined],
    ['HEAD', '/photos', 'HeadBucket', 'photos', undefined],
    ['GET', '/photos?location', 'GetBucketLocation', 'photos', undefined],
    ['GET', '/photos?versioning', 'GetBucketVersioning', 'photos', undefined],
    ['PUT', '/photos?versioning', 'PutBucketVersioning', 'photos', undefined],
    ['GET', '/photos', 'ListObjects', 'photos', undefined],
    ['GET', '/photos?prefix=a&delimiter=%2F', 'ListObjects', 'photos', undefined],
    ['GET', '/photos?list-type=2&prefix=a', 'ListObjectsV2', 'photos', undefined],
    ['GET', '/photos?versions&prefix=a', 'ListObjectVersions', 'photos', undefined],
    ['GET', '/photos?uploads', 'ListMultipartUploads', 'photos', undefined],
    ['POST', '/photos?delete', 'DeleteObjects', 'photos', undefined],
    ['PUT', '/photos/a/b.jpg', 'PutObject', 'photos', 'a/b.jpg'],
    ['GET', '/photos/a/b.jpg', 'GetObject', 'photos', 'a/b.jpg'],
    ['HEAD', '/photos/a/b.jpg', 'HeadObject', 'photos', 'a/b.jpg'],
    ['DELETE', '/photos/a/b.jpg', 'DeleteObject', 'photos', 'a/b.jpg'],
    ['POST', '/photos/big.iso?uploads', 'CreateMultipartUpload', 'photos', 'big.iso'],
    ['PUT', '/photos/big.iso?partNumber=3&uploadId=u1', 'UploadPart', 'photos', 'big.iso'],
    ['POST', '/photos/big.iso?uploadId=u1', 'CompleteMultipartUpload', 'photos', 'big.iso'],
    ['DELETE', '/photos/big.iso?uploadId=u1', 'AbortMultipartUpload', 'photos', 'big.iso'],
    ['GET', '/photos/big.iso?uploadId=u1&max-parts=2', 'ListParts', 'photos', 'big.iso'],
    ['GET', '/photos/k?tagging', 'GetObjectTagging', 'photos', 'k'],
    ['PUT', '/photos/k?tagging', 'PutObjectTagging', 'photos', 'k'],
    ['DELETE', '/photos/k?tagging', 'DeleteObjectTagging', 'photos', 'k'],
    ['GET', '/photos?tagging', 'GetBucketTagging', 'photos', undefined],
    ['PUT', '/photos?tagging', 'PutBucketTagging', 'photos', undefined],
    ['DELETE', '/photos?tagging', 'DeleteBucketTagging', 'photos', undefined],
    ['GET', '/photos?acl', 'GetBucketAcl', 'photos', undefined],
    ['PUT', '/photos?acl', 'PutBucketAcl', 'photos', undefined],
    ['GET', '/photos/k?acl', 'GetObjectAcl', 'photos', 'k'],
    ['PUT', '/photos/k?acl', 'PutObjectAcl', 'photos', 'k'],
    ['GET', '/photos?policy', 'GetBucketPolicy', 'photos', undefined],
    ['PUT', '/photos?policy', 'PutBucketPolicy', 'photos', undefined],
    ['DELETE', '/photos?policy', 'DeleteBucketPolicy', 'photos', undefined],
    ['GET', '/photos?policyStatus', 'GetBucketPolicyStatus', 'photos', undefined],
    ['GET', '/photos?cors', 'GetBucketCors', 'photos', undefined],
    ['PUT', '/photos?cors', 'PutBucketCors', 'photos', undefined],
    ['DELETE', '/photos?cors', 'DeleteBucketCors', 'photos', undefined],
    ['OPTIONS', '/photos', 'PreflightCors', 'photos', undefined],
    ['OPTIONS', '/photos/a/b.txt', 'PreflightCors', 'photos', 'a/b.txt'],
  ])('%s %s → %s', (method, target, operation, bucket, key) => {
    const result = route(method, target);
    expect(result.operation).toBe(operation);
    expect(result.bucket).toBe(bucket);
    expect(result.key).toBe(key);
    expect(result.style).toBe('path');
  });

  it('routes copies by the x-amz-copy-source header', () => {
    const copy = route('PUT', '/dst/new', { 'x-amz-copy-source': '/src/dir/old%20name+1.txt?versionId=v%2B1' });
    expect(copy).toMatchObject({ operation: 'CopyObject', bucket: 'dst', key: 'new', copySource: { bucket: 'src', key: 'dir/old name+1.txt', versionId: 'v+1' } });
    const partCopy = route('PUT', '/dst/big?partNumber=1&uploadId=x', { 'x-amz-copy-source': 'src/k' });
    expect(partCopy).toMatchObject({ operation: 'UploadPartCopy', uploadId: 'x', partNumber: 1, copySource: { bucket: 'src', key: 'k' } });
    expect(partCopy.copySource?.versionId).toBeUndefined();
  });

  it('carries upload ids, part numbers and version ids', () => {
    expect(route('PUT', '/bk1/k?partNumber=10000&uploadId=abc%3D%3D')).toMatchObject({ uploadId: 'abc==', partNumber: 10000 });
    expect(route('GET', '/bk1/k?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY')).toMatchObject({ operation: 'GetObject', versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' });
    expect(route('HEAD', '/bk1/k?partNumber=2')).toMatchObject({ operation: 'HeadObject', partNumber: 2 });
    expect(route('DELETE', '/bk1/k?versionId=null')).toMatchObject({ operation: 'DeleteObject', versionId: 'null' });
  });

  describe('keys are decoded exactly', () => {
    it.each([
      ['/bk1/a+b', 'a+b'],
      ['/bk1/a%2Bb', 'a+b'],
      ['/bk1/a%20b', 'a b'],
      ['/bk1/%E2%9C%93/%F0%9F%98%80', '✓/😀'],
      ['/bk1//leading-slash', '/leading-slash'],
      ['/bk1/trailing/', 'trailing/'],
      ['/bk1/dots/../x', 'dots/../x'],
      ['/bk1/%00nul%0Anewline', '\u0000nul\nnewline'],
      ["/bk1/!*'()~", "!*'()~"],
    ])('%s → %j', (target, key) => {
      expect(route('GET', target).key).toBe(key);
    });

    it('refuses invalid percent-encoding and invalid UTF-8 with InvalidURI', () => {
      expect(routeError('GET', '/bk1/%ZZ')).toBe('InvalidURI');
      expect(routeError('GET', '/bk1/%C3')).toBe('InvalidURI');
      expect(routeError('GET', '/bk1/%ED%A0%80')).toBe('InvalidURI');
    });

    it('accepts 1024-byte keys and refuses 1025 bytes (counted in UTF-8) with KeyTooLongError', () => {
      expect(route('PUT', `/bk1/${'k'.repeat(1024)}`).key).toHaveLength(1024);
      expect(routeError('PUT', `/bk1/${'k'.repeat(1025)}`)).toBe('KeyTooLongError');
      expect(routeError('PUT', `/bk1/${'%C3%BC'.repeat(513)}`)).toBe('KeyTooLongError');
      expect(route('PUT', `/bk1/${'%C3%BC'.repeat(512)}`).key).toBe('ü'.repeat(512));
      expect(routeError('PUT', '/bk1/new', { 'x-amz-copy-source': `/src/${'k'.repeat(1025)}` })).toBe('KeyTooLongError');
    });
  });

  describe('virtual-hosted style', () => {
    it('takes the bucket from the Host header under a base domain', () => {
      expect(route('GET', '/a/b.txt', {}, 'photos.s3.cairn.test:9000')).toMatchObject({ operation: 'GetObject', bucket: 'photos', key: 'a/b.txt', style: 'virtual-host' });
      expect(route('GET', '/?list-type=2', {}, 'my.dotted.bucket.s3.cairn.test')).toMatchObject({ operation: 'ListObjectsV2', bucket: 'my.dotted.bucket' });
      expect(route('GET', '/', {}, 'photos.localhost:9000')).toMatchObject({ operation: 'ListObjects', bucket: 'photos' });
      expect(route('GET', '//x', {}, 'photos.localhost')).toMatchObject({ key: '/x' });
      expect(route('PUT', '/', {}, 'PHOTOS.S3.CAIRN.TEST')).toMatchObject({ operation: 'CreateBucket', bucket: 'photos' });
    });

    it('falls back to path style on a base domain itself, an IP or an unknown host', () => {
      expect(route('GET', '/', {}, 's3.cairn.test')).toMatchObject({ operation: 'ListBuckets', style: 'path' });
      expect(route('GET', '/bk1/k', {}, 'localhost:9000')).toMatchObject({ bucket: 'bk1', key: 'k', style: 'path' });
      expect(route('GET', '/bk1/k', {}, '[::1]:9000')).toMatchObject({ bucket: 'bk1', style: 'path' });
      expect(routeS3Request({ method: 'GET', host: undefined, target: parseRequestTarget('/bk1'), headers: {} }, config).operation).toBe('ListObjects');
      expect(virtualHostBucket('b1.example.com', config.baseDomains)).toBeUndefined();
    });
  });

  describe('bad requests', () => {
    it.each([
      ['PUT', '/ab'],
      ['PUT', '/Upper'],
      ['PUT', '/under_score'],
      ['PUT', '/-leading'],
      ['PUT', '/double..dot'],
      ['PUT', '/192.168.1.1'],
      ['GET', '/xn--punycode/k'],
      ['PUT', `/${'a'.repeat(64)}`],
    ])('%s %s → InvalidBucketName', (method, target) => {
      expect(routeError(method, target)).toBe('InvalidBucketName');
    });

    it('answers NotImplemented for subresources Cairn does not serve', () => {
      for (const target of ['/bk1?logging', '/bk1?website', '/bk1/k?select&select-type=2']) {
        expect(routeError(target.includes('?select') ? 'POST' : 'GET', target)).toBe('NotImplemented');
      }
      const form = routeS3Request({ method: 'POST', host: 'localhost', target: parseRequestTarget('/bk1'), headers: { 'content-type': 'multipart/form-data; boundary=x' } }, { baseDomains: ['localhost'] });
      expect([form.operation, form.bucket, form.key]).toEqual(['PostObject', 'bk1', undefined]);
    });

    it('answers a POST on a bucket that is not a form (nor ?delete) with 412 naming the condition, as S3 does: a client error, not 501', () => {
      for (const contentType of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/mixed; boundary=x']) {
        const refused = refusal('POST', '/bk1', contentType === undefined ? {} : { 'content-type': contentType });
        expect([refused.code, refused.httpStatus, refused.details]).toEqual(['PreconditionFailed', 412, { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' }]);
      }
    });

    it.each([
      ['GET', '/bk1/k?versionId='],
      ['HEAD', '/bk1/k?versionId='],
      ['DELETE', '/bk1/k?versionId='],
      ['GET', '/bk1/k?tagging&versionId='],
      ['PUT', '/bk1/k?retention&versionId='],
    ])('refuses an empty version id (%s %s) with InvalidArgument, as S3 does, rather than acting on the current version', (method, target) => {
      const refused = refusal(method, target);
      expect([refused.code, refused.httpStatus, refused.message]).toEqual(['InvalidArgument', 400, 'Version id cannot be the empty string']);
    });

    it('routes encryption and Object Lock subresources', () => {
      const op = (method: string, target: string) => routeS3Request({ method, host: 'localhost', target: parseRequestTarget(target), headers: {} }, { baseDomains: ['localhost'] }).operation;
      expect(['GET', 'PUT', 'DELETE'].map((m) => op(m, '/bk1?encryption'))).toEqual(['GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption']);
      expect(['GET', 'PUT'].map((m) => op(m, '/bk1?object-lock'))).toEqual(['GetObjectLockConfiguration', 'PutObjectLockConfiguration']);
      expect(['GET', 'PUT'].map((m) => op(m, '/bk1/k?retention'))).toEqual(['GetObjectRetention', 'PutObjectRetention']);
      expect(['GET', 'PUT'].map((m) => op(m, '/bk1/k?legal-hold'))).toEqual(['GetObjectLegalHold', 'PutObjectLegalHold']);
    });

    it('answers MethodNotAllowed for methods that make no sense on the resource', () => {
      expect(routeError('PUT', '/')).toBe('MethodNotAllowed');
      expect(routeError('PATCH', '/bk1/k')).toBe('MethodNotAllowed');
      expect(routeError('POST', '/bk1/k')).toBe('MethodNotAllowed');
      expect(routeError('TRACE', '/bk1')).toBe('MethodNotAllowed');
    });

    it('refuses bad part numbers, half a part address and an unknown list type with InvalidArgument', () => {
      expect(routeError('PUT', '/bk1/k?partNumber=0&uploadId=u')).toBe('InvalidArgument');
      expect(routeError('PUT', '/bk1/k?partNumber=10001&uploadId=u')).toBe('InvalidArgument');
      expect(routeError('PUT', '/bk1/k?partNumber=1.5&uploadId=u')).toBe('InvalidArgument');
      expect(routeError('PUT', '/bk1/k?partNumber=1')).toBe('InvalidArgument');
      expect(routeError('PUT', '/bk1/k?uploadId=u')).toBe('InvalidArgument');
      expect(routeError('GET', '/bk1?list-type=3')).toBe('InvalidArgument');
    });
  });
});

describe('parseCopySource', () => {
  it.each(['', 'bucketonly', '/bucketonly/', '/bk1/k?partNumber=1', '/bk1/k?versionId='])('refuses %j', (header) => {
    expect(() => parseCopySource(header)).toThrow(S3Error);
  });
});
