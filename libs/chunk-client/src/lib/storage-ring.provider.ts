import { HashRing, RING_MAX_WEIGHT, type ContentHash, type RingMember } from '@cairn/hashing';
import { CairnError, type ListNodesReply, type StorageNodeView } from '@cairn/protocol';

export const NO_STORAGE_NODES = 'NO_STORAGE_NODES';

/** How often the ring epoch is checked; a membership change takes effect within this. */
export const RING_EPOCH_POLL_INTERVAL_MS = 2_000;

/**
 * The placement ring from metadata's storage-node membership. The ring is rebuilt only when the
 * epoch changes, so every service that saw the same epoch places chunks the same way.
 */
interface RingSnapshot {
  readonly epoch: number;
  readonly ring: HashRing | null;
  readonly addresses: ReadonlyMap<string, string>;
  readonly nodes: readonly StorageNodeView[];
}

export class StorageRingProvider {
  private current?: RingSnapshot;
  /** The ring before the current one: its replicas still hold chunks a rebalance has not moved yet. */
  private previous?: RingSnapshot;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private checking?: Promise<boolean>;

  constructor(
    private readonly listNodes: () => Promise<ListNodesReply>,
    private readonly ringEpoch: () => Promise<{ epoch: number }>,
  ) {}

  /** Loads the ring now and then follows epoch changes until stop(). */
  start(onError: (error: unknown) => void): void {
    this.timer = setInterval(() => {
      this.followEpoch().catch(onError);
    }, RING_EPOCH_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The ring, loading it first if it was never loaded (or had no nodes). */
  async ready(): Promise<void> {
    if (!this.current?.ring) await this.refresh();
  }

  ring(): HashRing {
    if (!this.current?.ring) throw new CairnError(NO_STORAGE_NODES, 'no storage node has joined the region');
    return this.current.ring;
  }

  /** Null before the first load. */
  get epoch(): number | null {
    return this.current?.epoch ?? null;
  }

  /** Every member at the current epoch, draining ones included. */
  nodes(): readonly StorageNodeView[] {
    return this.current?.nodes ?? [];
  }

  addressOf(nodeId: string): string {
    const address = this.current?.addresses.get(nodeId) ?? this.previous?.addresses.get(nodeId);
    if (!address) throw new Error(`storage node ${nodeId} is not in ring epoch ${this.current?.epoch}`);
    return address;
  }

  /**
   * Where a chunk may still be when the ring's replicas do not have it: its replicas in the
   * previous epoch's ring, then the draining nodes (a rebalance moves chunks off them), then every
   * other member. A chunk stays where the ring of its write put it until the sweep moves it, and
   * that ring may be older than the previous one this process saw (two nodes joined in turn while
   * a region started: a chunk written when the first was alone is on no replica of the next two
   * rings), or one it never saw (it skipped epochs between polls, or started after them). Storage
   * nodes are few, and the members past the likely ones are asked only after those all missed.
   */
  fallbackReadNodes(hash: ContentHash, replicationFactor: number): string[] {
    const out: string[] = [];
    const previousRing = this.previous?.ring;
    if (previousRing) {
      for (const m of previousRing.replicasFor(hash, Math.min(replicationFactor, previousRing.members.length))) {
        if (this.current?.addresses.has(m.nodeId)) out.push(m.nodeId);
      }
    }
    const nodes = this.current?.nodes ?? [];
    for (const n of nodes) if (n.draining && !out.includes(n.nodeId)) out.push(n.nodeId);
    for (const n of nodes) if (!out.includes(n.nodeId)) out.push(n.nodeId);
    return out;
  }

  /**
   * Asks for the epoch now rather than at the next poll (a read that every candidate missed: a
   * rebalance copies chunks to the new ring's replicas and trims the old ones without waiting for
   * readers to poll). True when the ring changed. Concurrent callers share one look-up.
   */
  ringMoved(): Promise<boolean> {
    this.checking ??= (async () => {
      const before = this.current?.epoch;
      await this.followEpoch();
      return this.current?.epoch !== before;
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** Rebuilds the ring if metadata reports a new epoch (the poll calls it; tests may too). */
  async followEpoch(): Promise<void> {
    const { epoch } = await this.ringEpoch();
    if (!this.current || epoch !== this.current.epoch) await this.refresh();
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.listNodes()
      .then((reply) => {
        if (this.current && this.current.epoch === reply.epoch) return;
        const members = ringMembers(reply.nodes);
        if (this.current?.ring) this.previous = this.current;
        this.current = {
          epoch: reply.epoch,
          ring: members.length === 0 ? null : HashRing.build({ epoch: reply.epoch, members }),
          addresses: new Map(reply.nodes.map((n) => [n.nodeId, n.address])),
          nodes: reply.nodes,
        };
      })
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }
}

/** Draining nodes take no new chunks; weights are scaled into the ring's 1..RING_MAX_WEIGHT. */
export function ringMembers(nodes: readonly StorageNodeView[]): RingMember[] {
  const active = nodes.filter((n) => !n.draining);
  const heaviest = Math.max(1, ...active.map((n) => n.weight));
  return active.map((n) => ({
    nodeId: n.nodeId,
    zone: n.zone,
    host: n.host,
    weight: Math.max(1, Math.round((n.weight / heaviest) * RING_MAX_WEIGHT)),
  }));
}
