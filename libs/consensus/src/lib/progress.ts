import { invariant } from './invariant';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * The leader's view of one follower (etcd `tracker/progress.go`). In `probe` one append is in
 * flight at a time until the follower's position is found; in `replicate` appends stream
 * optimistically, bounded by `inflights`; in `snapshot` nothing is sent until the snapshot lands.
 */
export class Progress {
  match = 0;
  state: ProgressState = 'probe';
  /** In probe: an append is outstanding, so wait for its answer or a heartbeat. */
  probeSent = false;
  pendingSnapshot = 0;
  /** Ticks spent in `snapshot` state; a lost snapshot is retried after a bound. */
  snapshotTicks = 0;
  snapshotPatienceTicks = 0;
  recentActive = false;
  /** The commit index carried by the last append sent (a heartbeat's, capped at `match`, does not count). */
  commitSent = 0;
  /** Last index of each append in flight, oldest first. */
  private inflights: number[] = [];

  constructor(
    public next: number,
    private readonly maxInflight: number,
  ) {}

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.reset('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.reset('replicate');
  }

  /** `patienceTicks`: how long to wait for the snapshot's answer before sending it again. */
  becomeSnapshot(snapshotIndex: number, patienceTicks: number): void {
    this.reset('snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.snapshotPatienceTicks = patienceTicks;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.inflights = [];
  }

  /** An acknowledgement up to `index`; false if it tells nothing new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** After sending entries ending at `lastIndex`. */
  sentEntries(lastIndex: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        invariant(this.inflights.length < this.maxInflight, 'sent an append with a full in-flight window');
        this.inflights.push(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    } else {
      invariant(false, 'sent entries to a follower that is receiving a snapshot');
    }
  }

  freeInflightsUpTo(index: number): void {
    let i = 0;
    while (i < this.inflights.length && this.inflights[i] <= index) i++;
    if (i > 0) this.inflights = this.inflights.slice(i);
  }

  /** Lets one more append go when the window is full and a heartbeat shows the follower alive. */
  freeFirstInflight(): void {
    this.inflights = this.inflights.slice(1);
  }

  inflightsFull(): boolean {
    return this.inflights.length >= this.maxInflight;
  }

  /**
   * A rejection of the append whose prevLogIndex was `rejected`; `hint` is the follower's last
   * index. Returns false if the rejection is stale.
   */
  maybeDecreaseTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflightsFull();
      case 'snapshot':
        return true;
    }
  }
}
