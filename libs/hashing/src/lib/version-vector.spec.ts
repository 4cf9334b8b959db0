import fc from 'fast-check';
import { compareVersionVectors, incrementVersionVector, mergeVersionVectors, normalizeVersionVector, type VersionVector } from './version-vector';

const vv = fc.dictionary(fc.constantFrom('eu', 'us', 'ap', 'sa'), fc.integer({ min: 0, max: 5 })) as fc.Arbitrary<VersionVector>;
const flip = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;

describe('version vectors', () => {
  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(vv, vv, vv, (a, b, c) => {
        expect(mergeVersionVectors(a, b)).toEqual(mergeVersionVectors(b, a));
        expect(mergeVersionVectors(mergeVersionVectors(a, b), c)).toEqual(mergeVersionVectors(a, mergeVersionVectors(b, c)));
        expect(mergeVersionVectors(a, a)).toEqual(normalizeVersionVector(a));
      }),
    );
  });

  it('merge is an upper bound of both, and the least one', () => {
    fc.assert(
      fc.property(vv, vv, (a, b) => {
        const m = mergeVersionVectors(a, b);
        expect(['after', 'equal']).toContain(compareVersionVectors(m, a));
        expect(['after', 'equal']).toContain(compareVersionVectors(m, b));
        for (const actor of Object.keys(m)) expect(m[actor]).toBe(Math.max(a[actor] ?? 0, b[actor] ?? 0));
      }),
    );
  });

  it('compare is antisymmetric, and equal exactly when the normal forms are', () => {
    fc.assert(
      fc.property(vv, vv, (a, b) => {
        expect(compareVersionVectors(b, a)).toBe(flip[compareVersionVectors(a, b)]);
        expect(compareVersionVectors(a, b) === 'equal').toBe(JSON.stringify(normalizeVersionVector(a)) === JSON.stringify(normalizeVersionVector(b)));
      }),
    );
  });

  it('an increment comes after, and two increments by different actors are concurrent', () => {
    fc.assert(
      fc.property(vv, (a) => {
        expect(compareVersionVectors(incrementVersionVector(a, 'eu'), a)).toBe('after');
        expect(compareVersionVectors(incrementVersionVector(a, 'eu'), incrementVersionVector(a, 'us'))).toBe('concurrent');
      }),
    );
  });

  it('treats a zero entry as absent and refuses negative ones', () => {
    expect(compareVersionVectors({ eu: 0 }, {})).toBe('equal');
    expect(normalizeVersionVector({ us: 2, eu: 0, ap: 1 })).toEqual({ ap: 1, us: 2 });
    expect(() => normalizeVersionVector({ eu: -1 })).toThrow(RangeError);
  });
});
