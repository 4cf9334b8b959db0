import type { ContentHash, HashRing } from '@cairn/hashing';

/** "What if": the bytes a ring change would move, from where to where, and how long at the throttle. */
export interface NodeTraffic {
  readonly nodeId: string;
  readonly receiveBytes: number;
  readonly receiveChunks: number;
  /** Copies the node would give up once the new replicas hold them. */
  readonly releaseBytes: number;
  readonly releaseChunks: number;
}

export interface RebalancePlan {
  readonly fromEpoch: number;
  readonly chunksExamined: number;
  readonly bytesExamined: number;
  readonly chunksMoving: number;
  /** Bytes to copy: one per new replica of each chunk. */
  readonly bytesToCopy: number;
  readonly fractionOfBytesMoving: number;
  readonly nodes: readonly NodeTraffic[];
  readonly throttleBytesPerSecond: number;
  /** The copy rate the last sweep achieved, when it copied enough to say; null otherwise. */
  readonly observedBytesPerSecond: number | null;
  /** At the throttle, or at the observed rate where that is lower. */
  readonly estimatedSeconds: number;
}

export interface PlannedChunk {
  readonly hash: ContentHash;
  readonly sizeBytes: number;
  readonly replicationFactor: number;
}

/** Folds chunks in pages (the reference listing), so a plan over any number of chunks stays small. */
export class RebalancePlanner {
  private chunksExamined = 0;
  private bytesExamined = 0;
  private chunksMoving = 0;
  private bytesToCopy = 0;
  private bytesMoving = 0;
  private readonly traffic = new Map<string, { receiveBytes: number; receiveChunks: number; releaseBytes: number; releaseChunks: number }>();

  constructor(
    private readonly before: HashRing,
    private readonly after: HashRing,
  ) {}

  add(chunks: readonly PlannedChunk[]): void {
    for (const chunk of chunks) {
      this.chunksExamined++;
      this.bytesExamined += chunk.sizeBytes;
      const old = this.before.replicasFor(chunk.hash, Math.min(chunk.replicationFactor, this.before.members.length)).map((m) => m.nodeId);
      const next = this.after.replicasFor(chunk.hash, Math.min(chunk.replicationFactor, this.after.members.length)).map((m) => m.nodeId);
      const arriving = next.filter((n) => !old.includes(n));
      const leaving = old.filter((n) => !next.includes(n));
      if (arriving.length === 0 && leaving.length === 0) continue;
      this.chunksMoving++;
      this.bytesMoving += chunk.sizeBytes;
      this.bytesToCopy += arriving.length * chunk.sizeBytes;
      for (const n of arriving) {
        const t = this.entry(n);
        t.receiveBytes += chunk.sizeBytes;
        t.receiveChunks++;
      }
      for (const n of leaving) {
        const t = this.entry(n);
        t.releaseBytes += chunk.sizeBytes;
        t.releaseChunks++;
      }
    }
  }

  plan(throttleBytesPerSecond: number, observedBytesPerSecond: number | null = null): RebalancePlan {
    const rate = observedBytesPerSecond === null ? throttleBytesPerSecond : Math.min(throttleBytesPerSecond, observedBytesPerSecond);
    return {
      fromEpoch: this.before.epoch,
      chunksExamined: this.chunksExamined,
      bytesExamined: this.bytesExamined,
      chunksMoving: this.chunksMoving,
      bytesToCopy: this.bytesToCopy,
      fractionOfBytesMoving: this.bytesExamined === 0 ? 0 : this.bytesMoving / this.bytesExamined,
      nodes: [...this.traffic.entries()].map(([nodeId, t]) => ({ nodeId, ...t })).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)),
      throttleBytesPerSecond,
      observedBytesPerSecond,
      estimatedSeconds: this.bytesToCopy / rate,
    };
  }

  private entry(nodeId: string) {
    let t = this.traffic.get(nodeId);
    if (!t) {
      t = { receiveBytes: 0, receiveChunks: 0, releaseBytes: 0, releaseChunks: 0 };
      this.traffic.set(nodeId, t);
    }
    return t;
  }
}
