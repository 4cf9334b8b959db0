import type { ContentHash } from '@cairn/hashing';
import type { ReadFailover } from './chunk-client';
import type { UnderReplicationRecorder } from './under-replication-recorder.port';

/** A replica reported bad by a read is not reported again for this long (the repair job has it). */
export const READ_REPAIR_REPORT_WINDOW_MS = 60_000;
/** At most this many (chunk, node) pairs remembered; past it the oldest are forgotten. */
export const READ_REPAIR_REMEMBERED_MAX = 10_000;

/**
 * Read repair: each replica a read fell over from (missing chunk, corrupt bytes, node down) is
 * recorded as under-replicated for the repair job, once per window, without slowing the read.
 */
export class ReadRepairReporter {
  private readonly reportedAtMs = new Map<string, number>();

  constructor(
    private readonly recorder: UnderReplicationRecorder,
    private readonly ringEpoch: () => number,
    private readonly onError: (error: unknown) => void,
    private readonly nowMs: () => number = Date.now,
  ) {}

  readonly onReadFailover = (event: ReadFailover): void => {
    const key = `${event.hash}/${event.nodeId}`;
    const now = this.nowMs();
    const last = this.reportedAtMs.get(key);
    if (last !== undefined && now - last < READ_REPAIR_REPORT_WINDOW_MS) return;
    this.reportedAtMs.delete(key);
    this.reportedAtMs.set(key, now);
    if (this.reportedAtMs.size > READ_REPAIR_REMEMBERED_MAX) this.reportedAtMs.delete(this.reportedAtMs.keys().next().value as string);
    this.record(event.hash, event.nodeId, event.reason, now).catch(this.onError);
  };

  private record(hash: ContentHash, nodeId: string, reason: string, now: number): Promise<void> {
    return this.recorder.record({ hash, sizeBytes: -1, nodeId, reason: `read: ${reason}`, ringEpoch: this.ringEpoch(), detectedAtMs: now });
  }
}
