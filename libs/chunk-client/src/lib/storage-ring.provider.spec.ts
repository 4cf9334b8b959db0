import { contentHashOf, RING_MAX_WEIGHT } from '@cairn/hashing';
import type { ListNodesReply, StorageNodeView } from '@cairn/protocol';
import { NO_STORAGE_NODES, StorageRingProvider, ringMembers } from './storage-ring.provider';

function node(nodeId: string, weight: number, draining = false): StorageNodeView {
  return { nodeId, zone: `z-${nodeId}`, host: `h-${nodeId}`, address: `http://${nodeId}:9201`, weight, capacityBytes: weight * 1e9, draining, joinedAt: '2026-01-01T00:00:00Z', epoch: 1 };
}

describe('ringMembers', () => {
  it('scales weights into the ring range, keeping their ratio, and leaves draining nodes out', () => {
    const members = ringMembers([node('a', 4000), node('b', 2000), node('c', 1), node('d', 4000, true)]);
    expect(members.map((m) => [m.nodeId, m.weight])).toEqual([
      ['a', RING_MAX_WEIGHT],
      ['b', RING_MAX_WEIGHT / 2],
      ['c', 1],
    ]);
  });
});

describe('StorageRingProvider', () => {
  it('loads on demand, names addresses, and rebuilds only when the epoch changes', async () => {
    let reply: ListNodesReply = { epoch: 3, nodes: [node('a', 1), node('b', 1), node('c', 1)] };
    let listCalls = 0;
    let epoch = 3;
    const provider = new StorageRingProvider(
      async () => {
        listCalls++;
        return reply;
      },
      async () => ({ epoch }),
    );
    expect(() => provider.ring()).toThrow();
    await provider.ready();
    expect(provider.ring().epoch).toBe(3);
    expect(provider.addressOf('b')).toBe('http://b:9201');
    await provider.ready();
    expect(listCalls).toBe(1);

    reply = { epoch: 4, nodes: [...reply.nodes, node('d', 1)] };
    epoch = 4;
    await provider.followEpoch();
    expect(provider.ring().epoch).toBe(4);
    expect(provider.ring().members).toHaveLength(4);
    expect(listCalls).toBe(2);
  });

  it('says no storage node has joined rather than building an empty ring', async () => {
    const provider = new StorageRingProvider(async () => ({ epoch: 0, nodes: [] }), async () => ({ epoch: 0 }));
    await provider.ready();
    expect(() => provider.ring()).toThrow(expect.objectContaining({ code: NO_STORAGE_NODES }));
  });

  it('falls back on the previous epoch\'s replicas, then draining nodes, then every other member', async () => {
    let reply: ListNodesReply = { epoch: 1, nodes: [node('b', 1)] };
    const provider = new StorageRingProvider(async () => reply, async () => ({ epoch: reply.epoch }));
    await provider.ready();
    reply = { epoch: 2, nodes: [node('a', 1), node('b', 1), node('c', 1), node('d', 1, true)] };
    await provider.followEpoch();
    const hash = contentHashOf(Buffer.from('x'));
    const fallbacks = provider.fallbackReadNodes(hash, 1);
    expect(fallbacks.slice(0, 2)).toEqual(['b', 'd']);
    expect([...fallbacks].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('says whether the ring moved when asked at once, one look-up for concurrent callers', async () => {
    let reply: ListNodesReply = { epoch: 1, nodes: [node('a', 1)] };
    let epochCalls = 0;
    const provider = new StorageRingProvider(
      async () => reply,
      async () => {
        epochCalls++;
        return { epoch: reply.epoch };
      },
    );
    await provider.ready();
    expect(await provider.ringMoved()).toBe(false);
    reply = { epoch: 2, nodes: [node('a', 1), node('b', 1)] };
    epochCalls = 0;
    expect(await Promise.all([provider.ringMoved(), provider.ringMoved()])).toEqual([true, true]);
    expect(epochCalls).toBe(1);
    expect(provider.ring().members).toHaveLength(2);
    expect(await provider.ringMoved()).toBe(false);
  });
});
