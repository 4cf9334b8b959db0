import { routeBucket, type RouteInput } from './routing';

const regions: RouteInput['regions'] = [
  { region: 'region-1', up: true, rttMs: 0, freeBytes: 100, s3Endpoint: 'http://r1' },
  { region: 'region-2', up: true, rttMs: 12, freeBytes: 500, s3Endpoint: 'http://r2' },
  { region: 'region-3', up: true, rttMs: 12, freeBytes: 900, s3Endpoint: 'http://r3' },
];
const input = (overrides: Partial<RouteInput>): RouteInput => ({ bucket: 'b', self: 'region-1', mode: 'active-passive', home: 'region-2', epoch: 3, regions, ...overrides });

describe('routing a bucket', () => {
  it('sends an active-passive bucket’s writes to its home and reads to the nearest region', () => {
    expect(routeBucket(input({}))).toMatchObject({ mode: 'active-passive', home: 'region-2', epoch: 3, write: { region: 'region-2', s3Endpoint: 'http://r2' }, read: { region: 'region-1', s3Endpoint: 'http://r1' } });
  });

  it('skips a region that is down, and breaks a tie of round trips by free storage', () => {
    const down = regions.map((r) => (r.region === 'region-1' ? { ...r, up: false } : r));
    expect(routeBucket(input({ regions: down })).read).toEqual({ region: 'region-3', s3Endpoint: 'http://r3' });
  });

  it('keeps writes at the home even while it is down (no other region may take them)', () => {
    const homeDown = regions.map((r) => (r.region === 'region-2' ? { ...r, up: false } : r));
    expect(routeBucket(input({ regions: homeDown })).write).toEqual({ region: 'region-2', s3Endpoint: 'http://r2' });
  });

  it('sends both reads and writes of an active-active bucket to the nearest healthy region', () => {
    const route = routeBucket(input({ mode: 'active-active', home: null, regions: regions.map((r) => (r.region === 'region-1' ? { ...r, up: false } : r)) }));
    expect(route).toMatchObject({ home: null, epoch: null, write: { region: 'region-3' }, read: { region: 'region-3' } });
  });

  it('keeps a local bucket in the answering region: no other region holds it', () => {
    const route = routeBucket(input({ mode: 'local', home: null }));
    expect(route.write).toEqual({ region: 'region-1', s3Endpoint: 'http://r1' });
    expect(route.read).toEqual({ region: 'region-1', s3Endpoint: 'http://r1' });
    expect(route.regions.filter((r) => r.holdsBucket).map((r) => r.region)).toEqual(['region-1']);
  });
});
