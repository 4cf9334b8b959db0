import { drillProfileOf } from './drill-federation';

const region = (name: string, overrides: Record<string, unknown> = {}) => ({
  region: name,
  endpoints: { access: `http://127.0.0.1:9000`, metadata: 'http://127.0.0.1:9100', sync: 'http://127.0.0.1:9400' },
  operatorToken: `token-${name}`,
  s3: { endpoint: 'http://127.0.0.1:9000', accessKeyId: 'AK', secretAccessKey: 'SK' },
  ...overrides,
});
const profile = (overrides: Record<string, unknown> = {}) => ({
  faultProxy: 'http://127.0.0.1:9990',
  regions: { 'region-2': region('region-2'), 'region-1': region('region-1'), 'region-3': region('region-3') },
  ...overrides,
});

describe('drillProfileOf: a federation profile checked for what a drill needs', () => {
  it('lists the regions by name with their endpoints, token and S3 keys', () => {
    const p = drillProfileOf(profile());
    expect(p.regions.map((r) => r.name)).toEqual(['region-1', 'region-2', 'region-3']);
    expect(p.regions[0]).toMatchObject({ operatorToken: 'token-region-1', s3: { accessKeyId: 'AK', secretAccessKey: 'SK', signingRegion: 'us-east-1' }, endpoints: { sync: 'http://127.0.0.1:9400' } });
    expect(p).toMatchObject({ faultProxy: 'http://127.0.0.1:9990', caFile: null });
  });

  it.each<[string, unknown, string]>([
    ['not an object', [], 'must be a JSON object'],
    ['no fault proxy', profile({ faultProxy: undefined }), 'names no fault proxy'],
    ['no regions', profile({ regions: undefined }), 'lists no regions'],
    ['two regions', profile({ regions: { 'region-1': region('region-1'), 'region-2': region('region-2') } }), 'lists 2 regions'],
    ['a region without a sync endpoint', profile({ regions: { ...profile().regions, 'region-3': region('region-3', { endpoints: { access: 'http://a', metadata: 'http://m' } }) } }), 'no sync endpoint for region-3'],
    ['a region without a token', profile({ regions: { ...profile().regions, 'region-1': region('region-1', { operatorToken: '' }) } }), 'no operator token for region-1'],
    ['a region without S3 keys', profile({ regions: { ...profile().regions, 'region-2': region('region-2', { s3: { endpoint: 'http://a' } }) } }), 'no S3 keys for region-2'],
  ])('refuses %s', (_name, json, message) => {
    expect(() => drillProfileOf(json)).toThrow(message);
  });
});
