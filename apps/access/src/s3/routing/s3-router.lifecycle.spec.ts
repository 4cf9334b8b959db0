import { parseRequestTarget } from './request-target';
import { routeS3Request } from './s3-router';

const route = (method: string, target: string) => routeS3Request({ method, host: '127.0.0.1:9000', target: parseRequestTarget(target), headers: {} }, { baseDomains: ['localhost'] });

describe('routing ?lifecycle', () => {
  it.each([
    ['GET', 'GetBucketLifecycleConfiguration'],
    ['PUT', 'PutBucketLifecycleConfiguration'],
    ['DELETE', 'DeleteBucketLifecycle'],
  ])('%s /bucket?lifecycle → %s', (method, operation) => {
    expect(route(method, '/logs?lifecycle')).toMatchObject({ operation, bucket: 'logs' });
  });
});
