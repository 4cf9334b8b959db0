import { contentHashOf, HashRing, RING_MAX_REPLICAS } from '@cairn/hashing';
import { DEFAULT_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR } from '@cairn/protocol';
import { majorityOf, regionReplication } from './replication-strategy';

const ringOf = (size: number) =>
  HashRing.build({ epoch: 1, members: Array.from({ length: size }, (_, i) => ({ nodeId: `n${i}`, zone: `z${i}`, host: `h${i}`, weight: 1 })) });

describe('regionReplication', () => {
  it('is rf 3, w 2 for STANDARD and 2 of 2 for REDUCED_REDUNDANCY at the default factor', () => {
    const region = regionReplication(DEFAULT_REPLICATION_FACTOR);
    expect([region.standard.replicationFactor, region.standard.writeQuorum]).toEqual([3, 2]);
    expect([region.reducedRedundancy.replicationFactor, region.reducedRedundancy.writeQuorum]).toEqual([2, 2]);
  });

  it.each([
    [1, 1, 1, 1],
    [2, 2, 2, 2],
    [4, 3, 2, 2],
    [5, 3, 2, 2],
    [7, 4, 2, 2],
  ])('at rf %i waits for a majority (%i) of STANDARD copies; REDUCED_REDUNDANCY keeps %i and waits for %i', (rf, standardQuorum, reducedCopies, reducedQuorum) => {
    const region = regionReplication(rf);
    expect(region.replicationFactor).toBe(rf);
    expect([region.standard.replicationFactor, region.standard.writeQuorum]).toEqual([rf, standardQuorum]);
    expect([region.reducedRedundancy.replicationFactor, region.reducedRedundancy.writeQuorum]).toEqual([reducedCopies, reducedQuorum]);
  });

  it('a majority of any factor is more than half, so two acknowledged writes always share a copy', () => {
    for (let rf = 1; rf <= MAX_REPLICATION_FACTOR; rf++) {
      expect(2 * majorityOf(rf)).toBeGreaterThan(rf);
      expect(majorityOf(rf)).toBeLessThanOrEqual(rf);
    }
  });

  it('gives REDUCED_REDUNDANCY its own strategy and every other class, known or not, STANDARD’s', () => {
    const region = regionReplication(4);
    expect(region.forClass('REDUCED_REDUNDANCY')).toBe(region.reducedRedundancy);
    for (const storageClass of ['STANDARD', 'STANDARD_IA', 'GLACIER_IR', 'SOMETHING_NEWER', '']) expect(region.forClass(storageClass)).toBe(region.standard);
  });

  it('writes one node at rf 1 and reads from the one it wrote', () => {
    const ring = ringOf(3);
    const hash = contentHashOf('one copy');
    const { standard } = regionReplication(1);
    expect(standard.writeSet(ring, hash)).toHaveLength(1);
    expect(standard.readNodes(ring, hash)).toEqual(standard.writeSet(ring, hash));
    expect(standard.writeSet(ring, hash)).toEqual(regionReplication(3).standard.writeSet(ring, hash).slice(0, 1));
  });

  it('refuses a factor the ring cannot place, with the bound the ring itself has', () => {
    expect(MAX_REPLICATION_FACTOR).toBe(RING_MAX_REPLICAS);
    for (const rf of [0, -1, 2.5, MAX_REPLICATION_FACTOR + 1]) expect(() => regionReplication(rf)).toThrow(RangeError);
  });
});
