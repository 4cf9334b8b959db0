import type { NodeId } from './raft.types';

interface PendingRead {
  readonly index: number;
  readonly context: string;
  /** Who asked: the leader itself, or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex bookkeeping (Raft thesis §6.4): a read arrives, the leader notes its commit index and
 * sends a heartbeat carrying the read's context; once a quorum answers that heartbeat the leader
 * was still leader when the read arrived, and every read queued up to it may be served.
 */
export class ReadOnlyQueue {
  private pending: PendingRead[] = [];

  add(index: number, context: string, from: NodeId): void {
    if (this.pending.some((p) => p.context === context)) return;
    this.pending.push({ index, context, from, acks: new Set() });
  }

  /** Records an ack; returns how many nodes acked this context (0 if unknown). */
  recvAck(node: NodeId, context: string): number {
    const read = this.pending.find((p) => p.context === context);
    if (!read) return 0;
    read.acks.add(node);
    return read.acks.size;
  }

  /** Removes and returns every read queued up to and including `context`. */
  advance(context: string): PendingRead[] {
    const at = this.pending.findIndex((p) => p.context === context);
    if (at < 0) return [];
    const done = this.pending.slice(0, at + 1);
    this.pending = this.pending.slice(at + 1);
    return done;
  }

  lastPendingContext(): string | undefined {
    return this.pending.length > 0 ? this.pending[this.pending.length - 1].context : undefined;
  }

  reset(): void {
    this.pending = [];
  }

  size(): number {
    return this.pending.length;
  }
}
