import { CairnError, MetadataErrorCodes, type BucketView, type LifecycleConfiguration, type LifecycleKeyVersions } from '@cairn/protocol';
import { describeError } from '@cairn/chunk-client';
import { decideUpload, decideVersion, versionFactsOf, type LifecycleDecision } from '../domain/lifecycle-evaluation';
import { reportProgress, type ProgressReport } from '../domain/job-progress';
import type { LifecycleMetadata } from './lifecycle-metadata';
import type { LifecycleTransitions } from './lifecycle-transitions';

/** Planned actions a dry run lists (the counts go on past it). */
export const LIFECYCLE_PLAN_LISTED_MAX = 1000;
const FAILURE_SAMPLE_MAX = 20;
/** Keys per lifecycle.versions page. */
export const LIFECYCLE_KEYS_PER_PAGE = 200;
/** Uploads per listUploads page. */
export const LIFECYCLE_UPLOADS_PER_PAGE = 1000;

export type LifecycleActionKind = 'expire-current' | 'delete-noncurrent' | 'remove-delete-marker' | 'transition' | 'abort-upload';

/** One thing the pass does (or, in a dry run, would do). */
export interface LifecycleAction {
  readonly kind: LifecycleActionKind;
  readonly bucket: string;
  readonly key: string;
  /** The version acted on (the upload id for abort-upload). */
  readonly versionId: string;
  readonly ruleId: string;
  /** The version's HLC as read: the removal is conditioned on it (ExpectedVersion). */
  readonly hlc?: string;
  readonly storageClass?: string;
  readonly fromStorageClass?: string;
  readonly sizeBytes?: number;
}

export interface LifecycleCounts {
  readonly bucketsDone: number;
  readonly bucketsTotal: number;
  readonly keysScanned: number;
  readonly versionsScanned: number;
  readonly uploadsScanned: number;
  readonly expired: number;
  readonly noncurrentDeleted: number;
  readonly deleteMarkersRemoved: number;
  readonly uploadsAborted: number;
  readonly transitioned: number;
  /** Transitions due that this build cannot carry out (docs/lifecycle.md). */
  readonly transitionsUnavailable: number;
  /** Actions metadata refused because the version changed since it was read (a new write, another pass). */
  readonly skippedChanged: number;
  readonly failures: number;
}

/**
 * Where a pass is, saved after every action: a pass resumed after a crash (BullMQ hands the
 * stalled job on) starts at the key after the last one finished, reads with minSequence (so it
 * sees its own removals), and settles the one action that was in flight.
 */
export interface LifecycleCursor {
  readonly runId: string;
  readonly nowMs: number;
  readonly buckets: readonly string[];
  readonly bucketIndex: number;
  readonly phase: 'versions' | 'uploads';
  readonly afterKeyId: string | null;
  readonly uploadMarker: { readonly keyMarker: string; readonly uploadIdMarker: string } | null;
  readonly counts: LifecycleCounts;
  /** What listings must show: the META sequence the pass started at, then the highest one an action of this pass was appended at. */
  readonly lastSequence: number;
  /** The action sent and not yet answered. */
  readonly pending: LifecycleAction | null;
  readonly resumes: number;
  readonly failureSample: readonly string[];
  readonly startedAtMs: number;
}

export interface LifecycleReport {
  readonly id: string;
  readonly trigger: string;
  /** The moment the rules were judged at (ISO). */
  readonly now: string;
  readonly bucket?: string;
  readonly dryRun: boolean;
  readonly state: 'running' | 'done' | 'failed';
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
  readonly counts: LifecycleCounts;
  readonly progress: ProgressReport;
  readonly resumes: number;
  readonly failureSample: readonly string[];
  /** Dry runs only: what would be done, up to LIFECYCLE_PLAN_LISTED_MAX. */
  readonly planned?: readonly LifecycleAction[];
  readonly plannedTruncated?: boolean;
}

export function emptyLifecycleCounts(): LifecycleCounts {
  return {
    bucketsDone: 0,
    bucketsTotal: 0,
    keysScanned: 0,
    versionsScanned: 0,
    uploadsScanned: 0,
    expired: 0,
    noncurrentDeleted: 0,
    deleteMarkersRemoved: 0,
    uploadsAborted: 0,
    transitioned: 0,
    transitionsUnavailable: 0,
    skippedChanged: 0,
    failures: 0,
  };
}

export interface LifecyclePassOptions {
  readonly id: string;
  readonly trigger: string;
  readonly nowMs: number;
  readonly bucket?: string;
  readonly dryRun: boolean;
  readonly region: string;
  readonly signal: AbortSignal;
  /** Where a crashed run of the same id got to; null for a fresh run. */
  readonly resumeFrom: LifecycleCursor | null;
  /** Called after every action (and page): the job saves it to Redis. */
  readonly saveCursor: (cursor: LifecycleCursor) => Promise<void>;
  readonly publish: (report: LifecycleReport) => Promise<void>;
  /** Waits as long as the action pace requires before the next action. */
  readonly pace: () => Promise<void>;
}

/** Whether this region runs lifecycle for the bucket: its home (active-passive) or the region it was created in. */
export function runsLifecycleHere(bucket: BucketView, region: string): boolean {
  if (bucket.replication.mode === 'active-passive') return bucket.replication.homeRegion === region;
  return bucket.region === region;
}

const COUNTED_AS: Readonly<Record<LifecycleActionKind, keyof LifecycleCounts>> = {
  'expire-current': 'expired',
  'delete-noncurrent': 'noncurrentDeleted',
  'remove-delete-marker': 'deleteMarkersRemoved',
  transition: 'transitioned',
  'abort-upload': 'uploadsAborted',
};
const counted = (kind: LifecycleActionKind): keyof LifecycleCounts => COUNTED_AS[kind];

/** What a refusal of a conditioned action means: the version changed since it was read, or the work was done already. */
function isAlreadyChanged(error: unknown): boolean {
  return (
    error instanceof CairnError &&
    (error.code === MetadataErrorCodes.PreconditionFailed || error.code === MetadataErrorCodes.NoSuchVersion || error.code === MetadataErrorCodes.NoSuchUpload || error.code === MetadataErrorCodes.NoSuchKey)
  );
}

/**
 * One lifecycle pass over the buckets with a configuration (or one bucket), as of `nowMs`: every
 * key's versions judged by the pure rules (domain/lifecycle-evaluation.ts), every action done
 * through metadata's ordinary commands, conditioned on the version as read, one at a time at the
 * configured pace; then the bucket's open multipart uploads. A dry run reads the same and acts on
 * nothing.
 */
export class LifecyclePass {
  private cursor: LifecycleCursor;
  private readonly planned: LifecycleAction[] = [];
  private plannedTruncated = false;
  private state: LifecycleReport['state'] = 'running';
  private error?: string;
  private finishedAtMs?: number;

  constructor(
    private readonly metadata: LifecycleMetadata,
    private readonly transitions: LifecycleTransitions,
    private readonly options: LifecyclePassOptions,
  ) {
    const r = options.resumeFrom;
    this.cursor =
      r !== null
        ? { ...r, resumes: r.resumes + 1 }
        : {
            runId: options.id,
            nowMs: options.nowMs,
            buckets: [],
            bucketIndex: 0,
            phase: 'versions',
            afterKeyId: null,
            uploadMarker: null,
            counts: emptyLifecycleCounts(),
            lastSequence: 0,
            pending: null,
            resumes: 0,
            failureSample: [],
            startedAtMs: Date.now(),
          };
  }

  report(): LifecycleReport {
    const c = this.cursor.counts;
    return {
      id: this.options.id,
      trigger: this.options.trigger,
      now: new Date(this.cursor.nowMs).toISOString(),
      ...(this.options.bucket !== undefined ? { bucket: this.options.bucket } : {}),
      dryRun: this.options.dryRun,
      state: this.state,
      startedAt: new Date(this.cursor.startedAtMs).toISOString(),
      ...(this.finishedAtMs !== undefined ? { finishedAt: new Date(this.finishedAtMs).toISOString() } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      counts: c,
      progress: reportProgress({ doneItems: c.bucketsDone, totalItems: c.bucketsTotal, doneBytes: 0, totalBytes: 0 }, this.cursor.startedAtMs, this.finishedAtMs ?? Date.now()),
      resumes: this.cursor.resumes,
      failureSample: this.cursor.failureSample,
      ...(this.options.dryRun ? { planned: this.planned, plannedTruncated: this.plannedTruncated } : {}),
    };
  }

  async run(): Promise<LifecycleReport> {
    try {
      if (this.cursor.pending !== null) await this.settlePending(this.cursor.pending);
      if (this.options.resumeFrom === null) {
        const cut = await this.metadata.caughtUpCut(this.options.signal);
        const buckets = await this.bucketsToRun();
        this.update({ buckets, lastSequence: Math.max(this.cursor.lastSequence, cut), counts: { ...this.cursor.counts, bucketsTotal: buckets.length } });
        await this.save();
      }
      while (this.cursor.bucketIndex < this.cursor.buckets.length) {
        this.options.signal.throwIfAborted();
        await this.runBucket(this.cursor.buckets[this.cursor.bucketIndex]);
        this.update({
          bucketIndex: this.cursor.bucketIndex + 1,
          phase: 'versions',
          afterKeyId: null,
          uploadMarker: null,
          counts: { ...this.cursor.counts, bucketsDone: this.cursor.counts.bucketsDone + 1 },
        });
        await this.save();
      }
      this.state = 'done';
    } catch (error) {
      this.state = 'failed';
      this.error = describeError(error);
      throw error;
    } finally {
      this.finishedAtMs = Date.now();
      await this.options.publish(this.report()).catch(() => undefined);
    }
    return this.report();
  }

  private update(change: Partial<LifecycleCursor>): void {
    this.cursor = { ...this.cursor, ...change };
  }

  private count(name: keyof LifecycleCounts, by = 1): void {
    this.update({ counts: { ...this.cursor.counts, [name]: this.cursor.counts[name] + by } });
  }

  private fail(message: string): void {
    this.count('failures');
    if (this.cursor.failureSample.length < FAILURE_SAMPLE_MAX) this.update({ failureSample: [...this.cursor.failureSample, message] });
  }

  private async save(): Promise<void> {
    if (this.options.dryRun) return;
    await this.options.saveCursor(this.cursor);
    await this.options.publish(this.report());
  }

  private async bucketsToRun(): Promise<string[]> {
    const names = this.options.bucket !== undefined ? [this.options.bucket] : await this.metadata.bucketNames();
    const chosen: string[] = [];
    for (const name of names) {
      const view = await this.metadata.bucket(name);
      if (view?.lifecycle === undefined || view.deleting) continue;
      if (this.options.bucket === undefined && !runsLifecycleHere(view, this.options.region)) continue;
      chosen.push(name);
    }
    return chosen;
  }

  private async runBucket(bucket: string): Promise<void> {
    const view = await this.metadata.bucket(bucket);
    const config = view?.lifecycle;
    if (config === undefined) return;
    if (this.cursor.phase === 'versions') {
      for (;;) {
        this.options.signal.throwIfAborted();
        const page = await this.metadata.versions(bucket, this.cursor.afterKeyId, LIFECYCLE_KEYS_PER_PAGE, this.cursor.lastSequence);
        for (const key of page.keys) {
          await this.runKey(bucket, config, key);
          // Counted once the key is done: a pass resumed mid-key judges it again and must not count it twice.
          this.update({
            afterKeyId: key.keyId,
            counts: { ...this.cursor.counts, keysScanned: this.cursor.counts.keysScanned + 1, versionsScanned: this.cursor.counts.versionsScanned + key.versions.length },
          });
        }
        await this.save();
        if (page.nextAfterKeyId === null) break;
      }
      this.update({ phase: 'uploads', uploadMarker: null });
      await this.save();
    }
    if (!config.rules.some((r) => r.status === 'Enabled' && r.abortIncompleteMultipartUpload !== undefined)) return;
    for (;;) {
      this.options.signal.throwIfAborted();
      const page = await this.metadata.uploads(bucket, this.cursor.uploadMarker, LIFECYCLE_UPLOADS_PER_PAGE, this.cursor.lastSequence);
      for (const upload of page.uploads) {
        this.count('uploadsScanned');
        const decision = decideUpload(config, { key: upload.key, initiatedMs: Date.parse(upload.initiatedAt) }, this.cursor.nowMs);
        if (decision.action === 'abort') await this.act({ kind: 'abort-upload', bucket, key: upload.key, versionId: upload.uploadId, ruleId: decision.ruleId });
        this.update({ uploadMarker: { keyMarker: upload.key, uploadIdMarker: upload.uploadId } });
      }
      await this.save();
      if (!page.isTruncated || page.uploads.length === 0) break;
    }
  }

  private async runKey(bucket: string, config: LifecycleConfiguration, key: LifecycleKeyVersions): Promise<void> {
    const listed = key.versions.map((v) => ({
      key: key.key,
      versionId: v.versionId,
      sizeBytes: v.sizeBytes,
      tags: v.tags,
      storageClass: v.storageClass,
      lastModifiedMs: Date.parse(v.lastModified),
      isCurrent: v.isLatest,
      isDeleteMarker: v.isDeleteMarker,
    }));
    const facts = versionFactsOf(listed);
    for (const [i, f] of facts.entries()) {
      const decision: LifecycleDecision = decideVersion(config, f, this.cursor.nowMs);
      if (decision.action === 'none') continue;
      const v = key.versions[i];
      await this.act({
        kind: decision.action,
        bucket,
        key: key.key,
        versionId: v.versionId,
        ruleId: decision.ruleId,
        hlc: v.hlc,
        sizeBytes: v.sizeBytes,
        ...(decision.action === 'transition' ? { storageClass: decision.storageClass, ...(v.storageClass !== null ? { fromStorageClass: v.storageClass } : {}) } : {}),
      });
      // The current version expired: what is left of the key is judged again on the next pass.
      if (decision.action === 'expire-current') break;
    }
  }

  private async act(action: LifecycleAction): Promise<void> {
    if (action.kind === 'transition' && !this.transitions.available) {
      this.count('transitionsUnavailable');
      if (this.options.dryRun) this.plan(action);
      return;
    }
    if (this.options.dryRun) {
      this.count(counted(action.kind));
      this.plan(action);
      return;
    }
    await this.options.pace();
    this.options.signal.throwIfAborted();
    this.update({ pending: action });
    await this.save();
    try {
      const sequence = await this.perform(action);
      this.update({ pending: null, lastSequence: Math.max(this.cursor.lastSequence, sequence) });
      this.count(counted(action.kind));
    } catch (error) {
      this.update({ pending: null });
      if (isAlreadyChanged(error)) this.count('skippedChanged');
      else this.fail(`${action.kind} ${action.bucket}/${action.key} ${action.versionId}: ${describeError(error)}`);
    }
    await this.save();
  }

  /** The action in flight when a previous run of this pass died: sent again (it is conditioned), and counted once whichever way it went. */
  private async settlePending(action: LifecycleAction): Promise<void> {
    try {
      const sequence = await this.perform(action);
      this.update({ lastSequence: Math.max(this.cursor.lastSequence, sequence) });
    } catch (error) {
      // Refused as changed: the earlier attempt did it (or a newer write came in; either way it is not done twice).
      if (!isAlreadyChanged(error)) {
        this.update({ pending: null });
        this.fail(`${action.kind} ${action.bucket}/${action.key} ${action.versionId}: ${describeError(error)}`);
        await this.save();
        return;
      }
    }
    this.update({ pending: null });
    this.count(counted(action.kind));
    await this.save();
  }

  private plan(action: LifecycleAction): void {
    if (this.planned.length < LIFECYCLE_PLAN_LISTED_MAX) this.planned.push(action);
    else this.plannedTruncated = true;
  }

  private async perform(action: LifecycleAction): Promise<number> {
    switch (action.kind) {
      case 'expire-current':
        return this.metadata.deleteObject({ bucket: action.bucket, key: action.key, expect: { hlc: action.hlc ?? '', current: true } });
      case 'delete-noncurrent':
        return this.metadata.deleteObject({ bucket: action.bucket, key: action.key, versionId: action.versionId, expect: { hlc: action.hlc ?? '', current: false } });
      case 'remove-delete-marker':
        return this.metadata.deleteObject({ bucket: action.bucket, key: action.key, versionId: action.versionId, expect: { hlc: action.hlc ?? '', current: true, onlyVersion: true } });
      case 'abort-upload':
        return this.metadata.abortUpload(action.bucket, action.versionId);
      case 'transition':
        return this.transitions.transition(action);
      default: {
        const unknown: never = action.kind;
        throw new Error(`unknown lifecycle action ${String(unknown)}`);
      }
    }
  }
}
