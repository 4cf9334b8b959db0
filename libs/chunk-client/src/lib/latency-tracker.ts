/**
 * Recent latency per node as an exponentially weighted moving average. A failure counts as a
 * long request, so a failing node sinks down the read order and climbs back as it recovers.
 */
export const LATENCY_EWMA_ALPHA = 0.3;
export const FAILURE_PENALTY_MS = 1_000;

export class LatencyTracker {
  private readonly ewmaMs = new Map<string, number>();

  constructor(private readonly alpha: number = LATENCY_EWMA_ALPHA) {}

  observe(nodeId: string, latencyMs: number): void {
    const previous = this.ewmaMs.get(nodeId);
    this.ewmaMs.set(nodeId, previous === undefined ? latencyMs : previous + this.alpha * (latencyMs - previous));
  }

  observeFailure(nodeId: string): void {
    this.observe(nodeId, FAILURE_PENALTY_MS);
  }

  /** Undefined for a node never measured. */
  estimateMs(nodeId: string): number | undefined {
    return this.ewmaMs.get(nodeId);
  }

  /** Fastest first; unmeasured nodes first of all (so they get measured), in the given order. */
  order<T extends { readonly nodeId: string }>(nodes: readonly T[]): T[] {
    const rank = (n: T) => this.ewmaMs.get(n.nodeId) ?? -1;
    return nodes
      .map((n, i) => ({ n, i }))
      .sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i)
      .map(({ n }) => n);
  }
}
