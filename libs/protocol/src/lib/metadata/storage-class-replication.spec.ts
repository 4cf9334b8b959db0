import { DEFAULT_REPLICATION_FACTOR, replicationFactorOf, StorageClasses, STORAGE_CLASS_REPLICATION_FACTORS } from './common';

describe('replicationFactorOf', () => {
  it('maps each storage class to its copies: REDUCED_REDUNDANCY two, the others three (a whole chunk of an erasure-coded class is kept like STANDARD)', () => {
    expect(StorageClasses.map((c) => [c, replicationFactorOf(c)])).toEqual([
      ['STANDARD', 3],
      ['REDUCED_REDUNDANCY', 2],
      ['STANDARD_IA', 3],
      ['GLACIER_IR', 3],
    ]);
    expect(Object.keys(STORAGE_CLASS_REPLICATION_FACTORS).sort()).toEqual([...StorageClasses].sort());
  });

  it('takes the safe side for no class, an unknown one, or a name of an object property', () => {
    for (const storageClass of [null, undefined, '', 'GLACIER', 'REDUCED', 'standard', 'toString', '__proto__']) {
      expect(replicationFactorOf(storageClass)).toBe(DEFAULT_REPLICATION_FACTOR);
    }
  });
});
