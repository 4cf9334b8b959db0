import { DEFAULT_REPLICATION_FACTOR, isReplicationFactor, MAX_REPLICATION_FACTOR, replicationFactorOf, StorageClasses } from './common';

describe('replicationFactorOf', () => {
  it('maps each storage class to its copies at the default factor: REDUCED_REDUNDANCY two, the others three (a whole chunk of an erasure-coded class is kept like STANDARD)', () => {
    expect(DEFAULT_REPLICATION_FACTOR).toBe(3);
    expect(StorageClasses.map((c) => [c, replicationFactorOf(c, DEFAULT_REPLICATION_FACTOR)])).toEqual([
      ['STANDARD', 3],
      ['REDUCED_REDUNDANCY', 2],
      ['STANDARD_IA', 3],
      ['GLACIER_IR', 3],
    ]);
  });

  it.each([
    [1, 1, 1],
    [2, 2, 2],
    [5, 5, 2],
    [MAX_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR, 2],
  ])('at a region factor of %i keeps STANDARD at %i copies and REDUCED_REDUNDANCY at %i (never more than STANDARD)', (region, standard, reduced) => {
    expect(replicationFactorOf('STANDARD', region)).toBe(standard);
    expect(replicationFactorOf('REDUCED_REDUNDANCY', region)).toBe(reduced);
    expect(replicationFactorOf('GLACIER_IR', region)).toBe(standard);
  });

  it('takes the safe side (the region factor) for no class, an unknown one, or a name of an object property', () => {
    for (const storageClass of [null, undefined, '', 'GLACIER', 'REDUCED', 'standard', 'toString', '__proto__']) {
      expect(replicationFactorOf(storageClass, 1)).toBe(1);
      expect(replicationFactorOf(storageClass, 4)).toBe(4);
    }
  });

  it('refuses a factor that is no whole number of copies the ring can place', () => {
    for (const factor of [0, -1, 1.5, Number.NaN, MAX_REPLICATION_FACTOR + 1]) {
      expect(isReplicationFactor(factor)).toBe(false);
      expect(() => replicationFactorOf('STANDARD', factor)).toThrow(RangeError);
    }
    expect(isReplicationFactor('3')).toBe(false);
  });
});
