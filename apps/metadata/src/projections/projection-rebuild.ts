import type { StoredEvent } from '@cairn/eventing';
import { DEAD_LETTER_SEQUENCE_HEADER, decodeEvent, messagesOnSubject, type NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf } from '../adapters/metadata-schema';
import { tableIn } from '../adapters/metadata-schema';
import { MetadataProjector } from './metadata-projector';
import type { AccessKeySecrets } from '../access-key/access-key-secrets';
import { CHECKPOINT_NAMES, META_PROJECTOR_DURABLE, PROJECTED_STREAMS, projectedSubject, type ProjectedStream } from './projection-streams';

/** Events replayed per projector call inside the rebuild transaction. */
export const REBUILD_BATCH_EVENTS = 500;

/** Every projected table; projection_checkpoints stays (its rows are reset and locked instead). */
export const PROJECTED_TABLES = [
  'buckets',
  'object_versions',
  'object_version_chunks',
  'object_version_shards',
  'multipart_uploads',
  'multipart_parts',
  'multipart_part_chunks',
  'multipart_part_shards',
  'access_keys',
  'users',
  'storage_nodes',
  'ring_epoch',
  'conflict_log',
] as const;

export interface RebuildStreamProgress {
  /** The stream's last sequence when the rebuild started: the replay goes up to it. */
  readonly target: number;
  readonly replayed: number;
  readonly applied: number;
  readonly checkpoint: number;
  /** Events the live projector parked on the dead-letter stream: stepped over here as well. */
  readonly parked: number;
}

export interface RebuildProgress {
  readonly state: 'idle' | 'running' | 'done' | 'failed';
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly streams: Partial<Record<ProjectedStream, RebuildStreamProgress>>;
  readonly error: string | null;
}

/**
 * Drops the projected rows and replays both streams into them, in ONE transaction: it first locks
 * the checkpoint rows, so the live projectors (of every instance) wait and then skip what the
 * replay covered, and readers see the old state until the new one commits whole. Events appended
 * after the replay's target are left to the live consumers.
 */
export class ProjectionRebuild {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    /** Seals the plaintext secrets of older AccessKeyCreated events: a rebuild leaves only sealed rows where the region has a master key. */
    private readonly accessKeySecrets?: AccessKeySecrets,
  ) {}

  async run(onProgress: (stream: ProjectedStream, progress: RebuildStreamProgress) => void = () => undefined): Promise<Record<ProjectedStream, RebuildStreamProgress>> {
    const t = tableIn(schemaOf(this.dataSource));
    const names = PROJECTED_STREAMS.map((s) => CHECKPOINT_NAMES[s]);
    return this.dataSource.transaction(async (tx) => {
      for (const name of names) {
        await tx.query(`INSERT INTO ${t('projection_checkpoints')} (projection, sequence) VALUES ($1, 0) ON CONFLICT (projection) DO NOTHING`, [name]);
      }
      await tx.query(`SELECT projection FROM ${t('projection_checkpoints')} WHERE projection = ANY($1) ORDER BY projection FOR UPDATE`, [names]);
      await tx.query(`TRUNCATE ${PROJECTED_TABLES.map((table) => t(table)).join(', ')}`);
      await tx.query(`UPDATE ${t('projection_checkpoints')} SET sequence = 0 WHERE projection = ANY($1)`, [names]);
      const result = {} as Record<ProjectedStream, RebuildStreamProgress>;
      for (const stream of PROJECTED_STREAMS) {
        const projector = new MetadataProjector(this.dataSource, { checkpointName: CHECKPOINT_NAMES[stream], ...(this.accessKeySecrets ? { accessKeySecrets: this.accessKeySecrets } : {}) });
        const target = await this.lastSequence(stream);
        const parked = await this.parkedSequences(stream);
        let progress: RebuildStreamProgress = { target, replayed: 0, applied: 0, checkpoint: 0, parked: 0 };
        onProgress(stream, progress);
        for await (const { batch, skipped } of this.replay(stream, target, parked)) {
          const projected = batch.length > 0 ? await projector.projectWithin(tx, batch) : { applied: 0, checkpoint: progress.checkpoint };
          progress = {
            target,
            replayed: progress.replayed + batch.length,
            applied: progress.applied + projected.applied,
            checkpoint: projected.checkpoint,
            parked: progress.parked + skipped,
          };
          onProgress(stream, progress);
        }
        if (progress.checkpoint < target) {
          // Everything up to the target was applied or stepped over as parked; a parked event last
          // in line would otherwise leave the live projector waiting for a message it already gave up.
          await tx.query(`UPDATE ${t('projection_checkpoints')} SET sequence = $2 WHERE projection = $1 AND sequence < $2`, [CHECKPOINT_NAMES[stream], target]);
          progress = { ...progress, checkpoint: target };
          onProgress(stream, progress);
        }
        result[stream] = progress;
      }
      return result;
    });
  }

  /** The last sequence of what the stream's projector reads (0 when nothing). */
  async lastSequence(stream: ProjectedStream): Promise<number> {
    const jsm = await this.nats.jetstreamManager();
    const streamName = subjectsFor(this.namespace).streamName(stream);
    try {
      if (stream === 'META') return (await jsm.streams.info(streamName)).state.last_seq;
      return (await jsm.streams.getMessage(streamName, { last_by_subj: projectedSubject(stream, this.namespace) })).seq;
    } catch (error) {
      // No stream yet (never provisioned) or no message on the subject: nothing to replay.
      const e = error as { code?: string; api_error?: { err_code?: number } };
      if (e?.code === '404' || e?.api_error?.err_code === 10037 || e?.api_error?.err_code === 10059) return 0;
      throw error;
    }
  }

  /**
   * The sequences the stream's live projector parked: a rebuild that tried them again would fail
   * the whole replay on the event the live projection already gave up on.
   */
  private async parkedSequences(stream: ProjectedStream): Promise<ReadonlySet<number>> {
    const parked = new Set<number>();
    if (stream !== 'META') return parked; // only META's projector parks; CLUSTER's is polled and retried.
    const jsm = await this.nats.jetstreamManager();
    const subjects = subjectsFor(this.namespace);
    for await (const m of messagesOnSubject(jsm, subjects.streamName('DLQ'), subjects.deadLetter('META', META_PROJECTOR_DURABLE))) {
      const sequence = Number(m.header?.get(DEAD_LETTER_SEQUENCE_HEADER));
      if (Number.isSafeInteger(sequence) && sequence > 0) parked.add(sequence);
    }
    return parked;
  }

  /** Reads the stream's events up to `target` by message-get (next message on the filter from a sequence), stepping over parked ones. */
  private async *replay(stream: ProjectedStream, target: number, parked: ReadonlySet<number>): AsyncGenerator<{ batch: StoredEvent[]; skipped: number }> {
    if (target === 0) return;
    const jsm = await this.nats.jetstreamManager();
    const streamName = subjectsFor(this.namespace).streamName(stream);
    const filter = projectedSubject(stream, this.namespace);
    let batch: StoredEvent[] = [];
    let skipped = 0;
    for await (const m of messagesOnSubject(jsm, streamName, filter, { beforeSequence: target + 1 })) {
      if (parked.has(m.seq)) skipped += 1;
      else batch.push({ envelope: decodeEvent(m.data, `${stream} message ${m.seq}`), sequence: m.seq });
      if (batch.length + skipped >= REBUILD_BATCH_EVENTS) {
        yield { batch, skipped };
        batch = [];
        skipped = 0;
      }
    }
    if (batch.length > 0 || skipped > 0) yield { batch, skipped };
  }
}
