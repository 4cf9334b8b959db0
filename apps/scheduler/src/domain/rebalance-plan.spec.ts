import { HashRing, contentHashOf } from '@cairn/hashing';
import { RebalancePlanner } from './rebalance-plan';

const members = (ids: string[]) => ids.map((nodeId, i) => ({ nodeId, zone: `z${i}`, host: `h${i}`, weight: 1 }));

describe('RebalancePlanner', () => {
  const chunks = Array.from({ length: 4_000 }, (_, i) => ({ hash: contentHashOf(Buffer.from(`chunk ${i}`)), sizeBytes: 1_000, replicationFactor: 3 }));

  it('adding a fourth node to three moves about a quarter of the bytes, all of them to the new node', () => {
    const planner = new RebalancePlanner(HashRing.build({ epoch: 1, members: members(['a', 'b', 'c']) }), HashRing.build({ epoch: 2, members: members(['a', 'b', 'c', 'd']) }));
    planner.add(chunks);
    const plan = planner.plan(1_000_000);
    // With rf=3 on 4 nodes, 3/4 of the chunks get d as a replica: one copy each, a quarter of all bytes stored.
    expect(plan.bytesToCopy / (plan.bytesExamined * 3)).toBeGreaterThan(0.2);
    expect(plan.bytesToCopy / (plan.bytesExamined * 3)).toBeLessThan(0.3);
    expect(plan.nodes.find((n) => n.nodeId === 'd')).toMatchObject({ receiveBytes: plan.bytesToCopy, releaseBytes: 0 });
    expect(plan.estimatedSeconds).toBeCloseTo(plan.bytesToCopy / 1_000_000);
  });

  it('a change that moves nothing plans nothing', () => {
    const ring = HashRing.build({ epoch: 1, members: members(['a', 'b', 'c']) });
    const planner = new RebalancePlanner(ring, ring);
    planner.add(chunks.slice(0, 100));
    expect(planner.plan(1)).toMatchObject({ chunksMoving: 0, bytesToCopy: 0, estimatedSeconds: 0, nodes: [] });
  });
});

describe('RebalancePlanner estimate', () => {
  it('goes by the rate the last sweep achieved where that is below the throttle', () => {
    const ring = HashRing.build({ epoch: 1, members: members(['a', 'b', 'c']) });
    const grown = HashRing.build({ epoch: 2, members: members(['a', 'b', 'c', 'd']) });
    const planner = new RebalancePlanner(ring, grown);
    planner.add(Array.from({ length: 400 }, (_, i) => ({ hash: contentHashOf(Buffer.from(`c${i}`)), sizeBytes: 1_000, replicationFactor: 3 })));
    const atThrottle = planner.plan(1_000);
    const observed = planner.plan(1_000, 250);
    expect(observed.estimatedSeconds).toBeCloseTo(atThrottle.estimatedSeconds * 4);
    expect(planner.plan(1_000, 5_000).estimatedSeconds).toBeCloseTo(atThrottle.estimatedSeconds);
  });
});
