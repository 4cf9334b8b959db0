import { bucketLifecycleProblem, lifecycleConditionOf, validateLifecycleConfiguration, type LifecycleRule } from './bucket-lifecycle.config';

const TARGETS = new Set(['REDUCED', 'COLD', 'STANDARD_IA']);
const rule = (extra: Record<string, unknown>) => ({ status: 'Enabled', filter: {}, ...extra });
const expire = { expiration: { days: 30 } };

describe('lifecycle configuration validation', () => {
  it('accepts every action and filter form, and keeps what was put', () => {
    const rules = [
      { id: 'all', status: 'Enabled', filter: {}, expiration: { days: 30 }, transitions: [{ days: 7, storageClass: 'COLD' }] },
      { id: 'legacy', status: 'Disabled', prefix: 'logs/', expiration: { date: '2027-01-01T00:00:00Z' } },
      { status: 'Enabled', filter: { tag: { key: 'k', value: 'v' } }, noncurrentVersionExpiration: { noncurrentDays: 3, newerNoncurrentVersions: 2 } },
      { status: 'Enabled', filter: { and: { prefix: 'a/', tags: [{ key: 'x', value: '1' }], objectSizeGreaterThan: 10, objectSizeLessThan: 20 } }, expiration: { days: 1 } },
      { status: 'Enabled', filter: { prefix: 'tmp/' }, abortIncompleteMultipartUpload: { daysAfterInitiation: 2 }, expiration: { expiredObjectDeleteMarker: true } },
      { status: 'Enabled', filter: { objectSizeLessThan: 5 }, noncurrentVersionTransitions: [{ noncurrentDays: 0, storageClass: 'REDUCED' }] },
    ];
    const config = validateLifecycleConfiguration({ rules }, TARGETS);
    expect(config.rules[1].expiration).toEqual({ date: '2027-01-01T00:00:00.000Z' });
    expect(config.rules[0]).toEqual({ id: 'all', status: 'Enabled', filter: {}, expiration: { days: 30 }, transitions: [{ days: 7, storageClass: 'COLD' }], noncurrentVersionTransitions: [] });
    expect(validateLifecycleConfiguration(config, TARGETS)).toEqual(config);
  });

  it.each<[string, unknown, string, string?]>([
    ['no rules', { rules: [] }, 'MalformedXML'],
    ['no status', { rules: [{ filter: {}, ...expire }] }, 'MalformedXML'],
    ['a bad status', { rules: [rule({ status: 'On', ...expire })] }, 'MalformedXML'],
    ['neither Prefix nor Filter', { rules: [{ status: 'Enabled', ...expire }] }, 'MalformedXML'],
    ['both Prefix and Filter', { rules: [rule({ prefix: 'a', ...expire })] }, 'MalformedXML'],
    ['two filter members', { rules: [rule({ filter: { prefix: 'a', tag: { key: 'k', value: 'v' } }, ...expire })] }, 'MalformedXML'],
    ['an And of one predicate', { rules: [rule({ filter: { and: { prefix: 'a', tags: [] } }, ...expire })] }, 'MalformedXML'],
    ['duplicate tag keys', { rules: [rule({ filter: { and: { tags: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }] } }, ...expire })] }, 'InvalidRequest', 'Duplicate Tag Keys are not allowed.'],
    ['size bounds the wrong way', { rules: [rule({ filter: { and: { objectSizeGreaterThan: 10, objectSizeLessThan: 10 } }, ...expire })] }, 'InvalidArgument'],
    ['no action', { rules: [rule({})] }, 'InvalidRequest', 'At least one action needs to be specified in a rule'],
    ['zero expiration days', { rules: [rule({ expiration: { days: 0 } })] }, 'InvalidArgument', "'Days' for Expiration action must be a positive integer"],
    ['a date not at midnight', { rules: [rule({ expiration: { date: '2027-01-01T10:00:00Z' } })] }, 'InvalidArgument', "'Date' must be at midnight GMT"],
    ['a date that is no date', { rules: [rule({ expiration: { date: 'tomorrow' } })] }, 'MalformedXML'],
    ['days and date', { rules: [rule({ expiration: { days: 1, date: '2027-01-01' } })] }, 'MalformedXML'],
    ['delete-marker expiry with days', { rules: [rule({ expiration: { days: 1, expiredObjectDeleteMarker: true } })] }, 'InvalidRequest'],
    ['delete-marker expiry with a tag filter', { rules: [rule({ filter: { tag: { key: 'k', value: 'v' } }, expiration: { expiredObjectDeleteMarker: true } })] }, 'InvalidRequest'],
    ['abort with a tag filter', { rules: [rule({ filter: { tag: { key: 'k', value: 'v' } }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } })] }, 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.'],
    ['abort after zero days', { rules: [rule({ abortIncompleteMultipartUpload: { daysAfterInitiation: 0 } })] }, 'InvalidArgument'],
    ['noncurrent expiry without days', { rules: [rule({ noncurrentVersionExpiration: { newerNoncurrentVersions: 1 } })] }, 'MalformedXML'],
    ['101 newer noncurrent versions', { rules: [rule({ noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 101 } })] }, 'InvalidArgument'],
    ['an unknown transition class', { rules: [rule({ transitions: [{ days: 1, storageClass: 'DEEP_ARCHIVE' }] })] }, 'InvalidRequest'],
    ['a transition to the same class twice', { rules: [rule({ transitions: [{ days: 1, storageClass: 'COLD' }, { days: 2, storageClass: 'COLD' }] })] }, 'InvalidRequest'],
    ['IA before 30 days', { rules: [rule({ transitions: [{ days: 10, storageClass: 'STANDARD_IA' }] })] }, 'InvalidArgument', "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"],
    ['expiration before the transition', { rules: [rule({ expiration: { days: 5 }, transitions: [{ days: 5, storageClass: 'COLD' }] })] }, 'InvalidArgument'],
    ['mixed days and dates', { rules: [rule({ expiration: { days: 50 }, transitions: [{ date: '2027-01-01', storageClass: 'COLD' }] })] }, 'InvalidRequest'],
    ['a 256-character id', { rules: [rule({ id: 'x'.repeat(256), ...expire })] }, 'InvalidArgument', 'ID length should not exceed allowed limit of 255'],
    ['the same id twice', { rules: [rule({ id: 'a', ...expire }), rule({ id: 'a', ...expire })] }, 'InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule'],
    ['1001 rules', { rules: Array.from({ length: 1001 }, () => rule(expire)) }, 'InvalidRequest'],
    ['days that are no number', { rules: [rule({ expiration: { days: '5' } })] }, 'MalformedXML'],
  ])('refuses %s', (...row) => {
    // A rest parameter: jest would take a fourth declared parameter for `done`.
    const [, input, code, message] = row;
    const problem = bucketLifecycleProblem(input, TARGETS);
    expect(problem?.code).toBe(code);
    if (message !== undefined) expect(problem?.message).toBe(message);
  });

  it('reduces each filter form to its conditions', () => {
    const cond = (r: Partial<LifecycleRule>) => lifecycleConditionOf(r);
    expect(cond({ prefix: 'logs/' })).toEqual({ prefix: 'logs/', tags: [] });
    expect(cond({ filter: {} })).toEqual({ prefix: '', tags: [] });
    expect(cond({ filter: { tag: { key: 'k', value: 'v' } } })).toEqual({ prefix: '', tags: [{ key: 'k', value: 'v' }] });
    expect(cond({ filter: { and: { prefix: 'p', tags: [], objectSizeLessThan: 9, objectSizeGreaterThan: 1 } } })).toEqual({ prefix: 'p', tags: [], objectSizeGreaterThan: 1, objectSizeLessThan: 9 });
  });
});
