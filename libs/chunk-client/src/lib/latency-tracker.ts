/**
 * Recent latency per node as an exponentially weighted moving average. A failure counts as a
 * long request, so a failing node sinks down the read order and climbs back as it recovers.
 */
export const LATENCY_EWMA_ALPHA = 0.3;
export const FAILURE_PENALTY_MS = 1_000;
/**
 * In the read order, a replica counts as slow (tried after the others with as few reads in flight)
 * when its recent latency is above this many times the fastest replica's, plus SLOW_REPLICA_MARGIN_MS.
 */
export const SLOW_REPLICA_FACTOR = 2;
export const SLOW_REPLICA_MARGIN_MS = 10;

export class LatencyTracker {
  private readonly ewmaMs = new Map<string, number>();
  /** Nodes whose last request failed: each stays last in the read order until one succeeds. */
  private readonly failing = new Set<string>();

  constructor(private readonly alpha: number = LATENCY_EWMA_ALPHA) {}

  observe(nodeId: string, latencyMs: number): void {
    this.failing.delete(nodeId);
    this.average(nodeId, latencyMs);
  }

  observeFailure(nodeId: string): void {
    this.average(nodeId, FAILURE_PENALTY_MS);
    this.failing.add(nodeId);
  }

  /** Undefined for a node never measured. */
  estimateMs(nodeId: string): number | undefined {
    return this.ewmaMs.get(nodeId);
  }

  /** True when the node's last request failed (and none has succeeded since). */
  isFailing(nodeId: string): boolean {
    return this.failing.has(nodeId);
  }

  /**
   * The order to read a chunk's replicas in, given in ring order (the chunk's first replica
   * first) with the reads this client has in flight to each: replicas whose last request failed go
   * last; before them, fewest reads in flight first, then replicas that are not slow (see
   * SLOW_REPLICA_FACTOR; an unmeasured one is not) before slow ones, then ring order. Fastest-first
   * alone sent every read to one replica (the one that answered fastest last kept being asked
   * while the others were not measured again), so concurrent reads queued behind each other on
   * one node while the others idled; ring order among equals reads a chunk from the same replica
   * each time, whose page cache may hold it already.
   */
  readOrder<T extends { readonly nodeId: string }>(nodes: readonly T[], inFlight: (nodeId: string) => number): T[] {
    let fastest = Infinity;
    for (const n of nodes) {
      const estimate = this.ewmaMs.get(n.nodeId);
      if (estimate !== undefined && !this.failing.has(n.nodeId)) fastest = Math.min(fastest, estimate);
    }
    const slowAbove = fastest * SLOW_REPLICA_FACTOR + SLOW_REPLICA_MARGIN_MS;
    const keyed = nodes.map((n, i) => {
      const estimate = this.ewmaMs.get(n.nodeId);
      return { n, i, failing: this.failing.has(n.nodeId) ? 1 : 0, inFlight: inFlight(n.nodeId), slow: estimate !== undefined && estimate > slowAbove ? 1 : 0 };
    });
    return keyed.sort((a, b) => a.failing - b.failing || a.inFlight - b.inFlight || a.slow - b.slow || a.i - b.i).map(({ n }) => n);
  }

  private average(nodeId: string, latencyMs: number): void {
    const previous = this.ewmaMs.get(nodeId);
    this.ewmaMs.set(nodeId, previous === undefined ? latencyMs : previous + this.alpha * (latencyMs - previous));
  }
}
