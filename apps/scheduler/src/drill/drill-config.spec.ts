import { loadConfig } from '@cairn/service-kit';
import { SchedulerConfig } from '../scheduler.config';

const load = (env: Record<string, string>) => loadConfig(SchedulerConfig, { CAIRN_HTTP_PORT: '9500', ...env });

describe('SchedulerConfig: scheduled drills', () => {
  it('are off by default, and need nothing else then', () => {
    expect(load({})).toMatchObject({ CAIRN_DRILL_INTERVAL_MS: 0, CAIRN_DRILL_BUCKET: 'cairn-drill' });
  });

  it('take an interval, the region to take out and the federation profile', () => {
    const env = { CAIRN_DRILL_INTERVAL_MS: '86400000', CAIRN_DRILL_REGION: 'region-1', CAIRN_DRILL_PROFILE: '.cairn/regions/profile.json' };
    expect(load(env)).toMatchObject({ CAIRN_DRILL_INTERVAL_MS: 86_400_000, CAIRN_DRILL_REGION: 'region-1', CAIRN_DRILL_PROFILE: '.cairn/regions/profile.json' });
  });

  it.each<[string, Record<string, string>, string]>([
    ['an interval without a region', { CAIRN_DRILL_INTERVAL_MS: '60000', CAIRN_DRILL_PROFILE: 'p.json' }, 'CAIRN_DRILL_REGION'],
    ['an interval without a profile', { CAIRN_DRILL_INTERVAL_MS: '60000', CAIRN_DRILL_REGION: 'region-1' }, 'CAIRN_DRILL_PROFILE'],
    ['an interval shorter than a drill', { CAIRN_DRILL_INTERVAL_MS: '5000', CAIRN_DRILL_REGION: 'region-1', CAIRN_DRILL_PROFILE: 'p.json' }, 'CAIRN_DRILL_INTERVAL_MS'],
    ['a negative interval', { CAIRN_DRILL_INTERVAL_MS: '-1' }, 'CAIRN_DRILL_INTERVAL_MS'],
    ['a region that is not a name', { CAIRN_DRILL_INTERVAL_MS: '60000', CAIRN_DRILL_REGION: 'Region 1', CAIRN_DRILL_PROFILE: 'p.json' }, 'CAIRN_DRILL_REGION'],
    ['a bucket that is not a name', { CAIRN_DRILL_BUCKET: 'No_Such' }, 'CAIRN_DRILL_BUCKET'],
  ])('refuse %s', (_name, env, field) => {
    expect(() => load(env)).toThrow(field);
  });
});
