import type { LifecycleConfiguration, LifecycleRule } from '@cairn/protocol';
import { DAY_MS, decideUpload, decideVersion, dueAtMs, versionFactsOf, type LifecycleVersionFacts } from './lifecycle-evaluation';

const T0 = Date.parse('2026-03-10T15:00:00.000Z');
const MIDNIGHT_AFTER_T0 = Date.parse('2026-03-11T00:00:00.000Z');
const day = (n: number) => MIDNIGHT_AFTER_T0 + (n - 1) * DAY_MS;

const config = (...rules: Partial<LifecycleRule>[]): LifecycleConfiguration => ({
  rules: rules.map((r) => ({ status: 'Enabled', filter: {}, transitions: [], noncurrentVersionTransitions: [], ...r }) as LifecycleRule),
});

const current = (over: Partial<LifecycleVersionFacts> = {}): LifecycleVersionFacts => ({
  key: 'logs/a.txt',
  versionId: 'v1',
  sizeBytes: 100,
  tags: [],
  storageClass: 'STANDARD',
  lastModifiedMs: T0,
  isCurrent: true,
  isDeleteMarker: false,
  noncurrentSinceMs: null,
  newerNoncurrentCount: 0,
  versionCount: 1,
  ...over,
});
const noncurrent = (over: Partial<LifecycleVersionFacts> = {}) => current({ isCurrent: false, noncurrentSinceMs: T0, versionCount: 2, ...over });

describe('lifecycle evaluation', () => {
  it('rounds an age up to the next midnight UTC', () => {
    expect(dueAtMs(T0, 1)).toBe(day(2));
    expect(dueAtMs(Date.parse('2026-03-10T00:00:00.000Z'), 1)).toBe(Date.parse('2026-03-11T00:00:00.000Z'));
  });

  it.each<[string, LifecycleConfiguration, LifecycleVersionFacts, number, string]>([
    ['a current version before its days', config({ expiration: { days: 3 } }), current(), day(4) - 1, 'none'],
    ['a current version on its day', config({ expiration: { days: 3 } }), current(), day(4), 'expire-current'],
    ['a current version after the date', config({ expiration: { date: '2026-03-12T00:00:00.000Z' } }), current(), Date.parse('2026-03-12T00:00:00.000Z'), 'expire-current'],
    ['a disabled rule', config({ status: 'Disabled', expiration: { days: 1 } }), current(), day(30), 'none'],
    ['another prefix', config({ filter: { prefix: 'img/' }, expiration: { days: 1 } }), current(), day(30), 'none'],
    ['the legacy prefix', config({ filter: undefined, prefix: 'logs/', expiration: { days: 1 } }), current(), day(30), 'expire-current'],
    ['a missing tag', config({ filter: { tag: { key: 'tier', value: 'tmp' } }, expiration: { days: 1 } }), current(), day(30), 'none'],
    ['a matching tag', config({ filter: { tag: { key: 'tier', value: 'tmp' } }, expiration: { days: 1 } }), current({ tags: [{ key: 'tier', value: 'tmp' }] }), day(30), 'expire-current'],
    ['a tag with another value', config({ filter: { tag: { key: 'tier', value: 'tmp' } }, expiration: { days: 1 } }), current({ tags: [{ key: 'tier', value: 'keep' }] }), day(30), 'none'],
    ['too small', config({ filter: { objectSizeGreaterThan: 100 }, expiration: { days: 1 } }), current(), day(30), 'none'],
    ['big enough', config({ filter: { objectSizeGreaterThan: 99 }, expiration: { days: 1 } }), current(), day(30), 'expire-current'],
    ['too big for an And', config({ filter: { and: { prefix: 'logs/', tags: [], objectSizeLessThan: 100 } }, expiration: { days: 1 } }), current(), day(30), 'none'],
    ['a current delete marker with other versions', config({ expiration: { expiredObjectDeleteMarker: true } }), current({ isDeleteMarker: true, versionCount: 2 }), day(30), 'none'],
    ['an expired delete marker', config({ expiration: { expiredObjectDeleteMarker: true } }), current({ isDeleteMarker: true, storageClass: null }), day(1), 'remove-delete-marker'],
    ['an expired delete marker under age-based expiration', config({ expiration: { days: 5 } }), current({ isDeleteMarker: true, storageClass: null }), day(1), 'remove-delete-marker'],
    ['an expired delete marker under a size filter', config({ filter: { objectSizeGreaterThan: 5 }, expiration: { expiredObjectDeleteMarker: true } }), current({ isDeleteMarker: true }), day(1), 'none'],
    ['a noncurrent version before its days', config({ noncurrentVersionExpiration: { noncurrentDays: 2 } }), noncurrent(), day(3) - 1, 'none'],
    ['a noncurrent version on its day', config({ noncurrentVersionExpiration: { noncurrentDays: 2 } }), noncurrent(), day(3), 'delete-noncurrent'],
    ['a noncurrent version among the newest kept', config({ noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 } }), noncurrent({ newerNoncurrentCount: 1 }), day(30), 'none'],
    ['a noncurrent version beyond the newest kept', config({ noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 } }), noncurrent({ newerNoncurrentCount: 2 }), day(30), 'delete-noncurrent'],
    ['a noncurrent delete marker', config({ noncurrentVersionExpiration: { noncurrentDays: 1 } }), noncurrent({ isDeleteMarker: true, storageClass: null }), day(2), 'delete-noncurrent'],
    ['a current version with only noncurrent rules', config({ noncurrentVersionExpiration: { noncurrentDays: 1 } }), current(), day(30), 'none'],
    ['a transition due', config({ transitions: [{ days: 2, storageClass: 'COLD' }] }), current(), day(3), 'transition:COLD'],
    ['a transition to the class it has', config({ transitions: [{ days: 2, storageClass: 'COLD' }] }), current({ storageClass: 'COLD' }), day(3), 'none'],
    ['a transition to a warmer class', config({ transitions: [{ days: 2, storageClass: 'REDUCED' }] }), current({ storageClass: 'COLD' }), day(3), 'none'],
    ['two transitions due: the colder', config({ transitions: [{ days: 1, storageClass: 'REDUCED' }, { days: 2, storageClass: 'COLD' }] }), current(), day(3), 'transition:COLD'],
    ['a noncurrent transition due', config({ noncurrentVersionTransitions: [{ noncurrentDays: 1, storageClass: 'COLD' }] }), noncurrent(), day(2), 'transition:COLD'],
    ['expiry before a transition', config({ transitions: [{ days: 1, storageClass: 'COLD' }] }, { expiration: { days: 2 } }), current(), day(3), 'expire-current'],
    ['deletion before a transition', config({ noncurrentVersionTransitions: [{ noncurrentDays: 1, storageClass: 'COLD' }] }, { noncurrentVersionExpiration: { noncurrentDays: 1 } }), noncurrent(), day(2), 'delete-noncurrent'],
  ])('%s', (_, rules, version, now, expected) => {
    const decision = decideVersion(rules, version, now);
    expect(decision.action === 'transition' ? `transition:${decision.storageClass}` : decision.action).toBe(expected);
  });

  it('names the rule that decided', () => {
    expect(decideVersion(config({ id: 'old-logs', expiration: { days: 1 } }), current(), day(2))).toEqual({ action: 'expire-current', ruleId: 'old-logs' });
    expect(decideVersion(config({ expiration: { days: 9 } }, { expiration: { days: 1 } }), current(), day(2))).toEqual({ action: 'expire-current', ruleId: 'rule-2' });
  });

  it('aborts uploads by age and prefix', () => {
    const rules = config({ filter: { prefix: 'big/' }, abortIncompleteMultipartUpload: { daysAfterInitiation: 2 } });
    expect(decideUpload(rules, { key: 'big/x', initiatedMs: T0 }, day(3) - 1)).toEqual({ action: 'none' });
    expect(decideUpload(rules, { key: 'big/x', initiatedMs: T0 }, day(3))).toEqual({ action: 'abort', ruleId: 'rule-1' });
    expect(decideUpload(rules, { key: 'small/x', initiatedMs: T0 }, day(30))).toEqual({ action: 'none' });
  });

  it('derives noncurrent-since and newer-noncurrent counts from a key’s versions, newest first', () => {
    const base = { key: 'k', sizeBytes: 1, tags: [], storageClass: 'STANDARD', isDeleteMarker: false };
    const facts = versionFactsOf([
      { ...base, versionId: 'c', lastModifiedMs: 300, isCurrent: true },
      { ...base, versionId: 'b', lastModifiedMs: 200, isCurrent: false },
      { ...base, versionId: 'a', lastModifiedMs: 100, isCurrent: false },
    ]);
    expect(facts.map((f) => [f.versionId, f.noncurrentSinceMs, f.newerNoncurrentCount, f.versionCount])).toEqual([
      ['c', null, 0, 3],
      ['b', 300, 0, 3],
      ['a', 200, 1, 3],
    ]);
  });
});
