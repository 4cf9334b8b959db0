import { createHash } from 'node:crypto';
import { HashRing, type ContentHash } from '@cairn/hashing';
import type { ShardPlacement } from '@cairn/protocol';
import { expectedHolders, reconcileChunk } from './chunk-reconciliation';

const ring = HashRing.build({ epoch: 1, members: ['a', 'b', 'c'].map((nodeId, i) => ({ nodeId, zone: `z${i}`, host: `h${i}`, weight: 1 })) });
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex') as ContentHash;
const stripe = hashOf('stripe');
const shards = [hashOf('s0'), hashOf('s1'), hashOf('s2')];
const layout = { dataShards: 2, parityShards: 1, shardSizeBytes: 4, shards };
const placed = (index: number): ShardPlacement => ({ stripe, index, layout });
const placement = ring.replicasFor(stripe, 3).map((m) => m.nodeId);
const listed = new Set(['a', 'b', 'c']);

describe('reconcileChunk with erasure-coded shards', () => {
  it('expects shard i on the i-th of the ring’s k+m replicas of its stripe, each on its own node', () => {
    const holders = shards.map((hash, i) => expectedHolders(ring, hash, { replicationFactor: 0, stripes: [placed(i)] }));
    expect(holders).toEqual(placement.map((n) => [n]));
    expect(new Set(holders.flat()).size).toBe(3);
  });

  it('is healthy where it belongs, copies and trims it where it does not', () => {
    const reference = { replicationFactor: 0, stripes: [placed(1)] };
    expect(reconcileChunk({ hash: shards[1], sizeBytes: 4, holders: [placement[1]], reference }, { ring, listed })).toEqual({ kind: 'healthy' });
    const elsewhere = placement[0];
    expect(reconcileChunk({ hash: shards[1], sizeBytes: 4, holders: [elsewhere], reference }, { ring, listed })).toEqual({
      kind: 'copy',
      reason: 'rebalance',
      to: [placement[1]],
      sources: [elsewhere],
      trim: [elsewhere],
      expected: [placement[1]],
    });
  });

  it('rebuilds a shard no node holds (rather than calling it lost), and waits while its node is not listed', () => {
    const reference = { replicationFactor: 0, stripes: [placed(2)] };
    expect(reconcileChunk({ hash: shards[2], sizeBytes: 4, holders: [], reference }, { ring, listed })).toEqual({ kind: 'rebuild', to: [placement[2]], stripes: [placed(2)] });
    expect(reconcileChunk({ hash: shards[2], sizeBytes: 4, holders: [], reference }, { ring, listed: new Set(placement.slice(0, 2)) })).toEqual({ kind: 'unknown' });
  });

  it('a hash that is both a whole chunk and a shard belongs on the union of both', () => {
    const both = expectedHolders(ring, shards[0], { replicationFactor: 2, stripes: [placed(0)] });
    expect(new Set(both)).toEqual(new Set([...ring.replicasFor(shards[0], 2).map((m) => m.nodeId), placement[0]]));
  });

  it('a ring smaller than the stripe wraps (two shards on one node rather than none)', () => {
    const small = HashRing.build({ epoch: 2, members: [{ nodeId: 'a', zone: 'z', host: 'h', weight: 1 }, { nodeId: 'b', zone: 'z2', host: 'h2', weight: 1 }] });
    const two = small.replicasFor(stripe, 2).map((m) => m.nodeId);
    expect(expectedHolders(small, shards[2], { replicationFactor: 0, stripes: [placed(2)] })).toEqual([two[0]]);
  });
});
