import { LatencyTracker, SLOW_REPLICA_FACTOR, SLOW_REPLICA_MARGIN_MS } from './latency-tracker';

const replicas = ['n1', 'n2', 'n3'].map((nodeId) => ({ nodeId }));
const ids = (nodes: readonly { nodeId: string }[]) => nodes.map((n) => n.nodeId);
const nothingInFlight = () => 0;

describe('LatencyTracker.readOrder', () => {
  it('reads a chunk from its first replica in ring order while no replica is busier, slower or failing than another', () => {
    const latency = new LatencyTracker();
    expect(ids(latency.readOrder(replicas, nothingInFlight))).toEqual(['n1', 'n2', 'n3']);
    latency.observe('n1', 30);
    latency.observe('n2', 20);
    latency.observe('n3', 25);
    // Within SLOW_REPLICA_FACTOR of the fastest, latency does not reorder them: the same chunk keeps being read from the same replica.
    expect(ids(latency.readOrder(replicas, nothingInFlight))).toEqual(['n1', 'n2', 'n3']);
  });

  it('puts the replicas with fewer of its reads in flight first', () => {
    const latency = new LatencyTracker();
    const inFlight = new Map([['n1', 2], ['n2', 1]]);
    expect(ids(latency.readOrder(replicas, (id) => inFlight.get(id) ?? 0))).toEqual(['n3', 'n2', 'n1']);
  });

  it('spreads concurrent reads over the replicas where fastest-first sends them all to one', () => {
    const latency = new LatencyTracker();
    latency.observe('n1', 40);
    latency.observe('n2', 10);
    latency.observe('n3', 40);
    const inFlight = new Map<string, number>();
    for (let read = 0; read < 6; read++) {
      const [first] = latency.readOrder(replicas, (id) => inFlight.get(id) ?? 0);
      inFlight.set(first.nodeId, (inFlight.get(first.nodeId) ?? 0) + 1);
    }
    expect(Object.fromEntries(inFlight)).toEqual({ n1: 2, n2: 2, n3: 2 });
  });

  it('tries a slow replica after the others with as few reads in flight, and before busier ones', () => {
    const latency = new LatencyTracker();
    latency.observe('n1', 50);
    latency.observe('n2', 50);
    latency.observe('n3', 50 * SLOW_REPLICA_FACTOR + SLOW_REPLICA_MARGIN_MS + 1);
    expect(ids(latency.readOrder(replicas, nothingInFlight))).toEqual(['n1', 'n2', 'n3']);
    expect(ids(latency.readOrder([...replicas].reverse(), nothingInFlight))).toEqual(['n2', 'n1', 'n3']);
    expect(ids(latency.readOrder([...replicas].reverse(), (id) => (id === 'n3' ? 0 : 1)))).toEqual(['n3', 'n2', 'n1']);
  });

  it('keeps a replica whose last request failed last, however idle, until a request to it succeeds', () => {
    const latency = new LatencyTracker();
    latency.observe('n1', 5);
    latency.observe('n2', 5);
    latency.observeFailure('n1');
    expect(latency.isFailing('n1')).toBe(true);
    expect(ids(latency.readOrder(replicas, (id) => (id === 'n1' ? 0 : 3)))).toEqual(['n2', 'n3', 'n1']);
    latency.observe('n1', 5);
    expect(latency.isFailing('n1')).toBe(false);
    // Still slow by its average (the failure counted FAILURE_PENALTY_MS), but no longer behind busier replicas.
    expect(ids(latency.readOrder(replicas, nothingInFlight))).toEqual(['n2', 'n3', 'n1']);
    expect(ids(latency.readOrder(replicas, (id) => (id === 'n1' ? 0 : 3)))[0]).toBe('n1');
  });
});
