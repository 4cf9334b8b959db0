import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DeliverPolicy } from 'nats';
import { describeError } from '@cairn/chunk-client';
import { NatsConnectionManager, nextMessageOnSubject } from '@cairn/messaging';
import { bucketToken, CairnError, subjectsFor } from '@cairn/protocol';
import { SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { segmentLine, type BackupManifest } from '../backup/backup-format';
import { BackupTargetsStore } from '../backup/backup-targets.store';
import type { BackupTarget } from '../backup/backup-target.port';
import { readManifests, sha256 } from '../backup/backup.runner';
import { BucketHistorySpill, removeLeftoverSpills, type SpillPlace } from './bucket-history-spill';
import { chooseHistorySource, type BackupReach, type HistorySource, type LiveLogReach } from '../domain/history-source';

/**
 * How far the live log and the backups reach back (for chooseHistorySource), and a bucket's history
 * read from a backup's segments (docs/backups.md): every segment is checked against its hash, only
 * the bucket's subjects are kept, and — for a moment after the backup's cut — the live log's events
 * of the bucket from the cut on are added.
 */
@Injectable()
export class BackupHistoryReader implements OnModuleInit {
  private readonly logger = new Logger('BackupHistory');

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly targets: BackupTargetsStore,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  /** A restore killed mid-way leaves its spill (as large as the bucket's events): cleared at start. */
  async onModuleInit(): Promise<void> {
    const removed = await removeLeftoverSpills(this.spillPlace());
    if (removed > 0) this.logger.warn(`removed ${removed} history spill(s) left by an earlier run of this instance`);
  }

  private spillPlace(): SpillPlace {
    return { owner: `${this.identity.namespace}.${this.identity.instance}` };
  }

  /**
   * Where to read the past of a moment from (chooseHistorySource): backup targets are read only when
   * the live log does not do. `windowMs`/`marginMs`: how recent a moment the live log serves (a
   * restore needs its chunks kept; a read of the past passes an unbounded window).
   */
  async sourceFor(atMs: number, windowMs: number, marginMs: number, windowSetting?: string): Promise<HistorySource> {
    const question = { atMs, nowMs: Date.now(), restoreWindowMs: windowMs, windowMarginMs: marginMs, live: await this.liveReach(), backups: [] };
    let decision = chooseHistorySource(question);
    if (!decision.ok && atMs <= question.nowMs) decision = chooseHistorySource({ ...question, backups: await this.reaches() });
    if (!decision.ok) throw new CairnError('InvalidArgument', windowSetting ? `${decision.reason} (${windowSetting})` : decision.reason);
    return decision.source;
  }

  async liveReach(): Promise<LiveLogReach> {
    const stream = subjectsFor(this.identity.namespace).streamName('META');
    const jsm = await this.nats.jetstreamManager();
    const state = (await jsm.streams.info(stream)).state;
    if (state.messages === 0) return { firstSequence: state.first_seq, firstOccurredAtMs: null };
    const first = await jsm.streams.getMessage(stream, { seq: state.first_seq });
    const occurredAt = (JSON.parse(new TextDecoder().decode(first.data)) as { occurredAt?: string }).occurredAt;
    return { firstSequence: state.first_seq, firstOccurredAtMs: occurredAt ? Date.parse(occurredAt) : null };
  }

  /** META's last sequence now. */
  async liveLastSequence(): Promise<number> {
    const jsm = await this.nats.jetstreamManager();
    return (await jsm.streams.info(subjectsFor(this.identity.namespace).streamName('META'))).state.last_seq;
  }

  /** Every complete backup of every target, with how far back each reaches; a target that cannot be read is left out (and logged). */
  async reaches(): Promise<BackupReach[]> {
    const out: BackupReach[] = [];
    for (const { name } of await this.targets.list()) {
      const target = await this.targets.open(name);
      try {
        out.push(...backupReachesOf(name, await readManifests(target)));
      } catch (error) {
        this.logger.warn(`backup target ${name} could not be read: ${describeError(error)}`);
      } finally {
        await target.close();
      }
    }
    return out;
  }

  async manifest(target: BackupTarget, backupId: string): Promise<BackupManifest> {
    const manifest = (await readManifests(target)).find((m) => m.id === backupId);
    if (!manifest) throw new Error(`backup ${backupId} is no longer in its target (pruned since the restore was queued?)`);
    return manifest;
  }

  /**
   * The bucket's history as of the moment, its keys' events spilled to a temporary file (memory:
   * an index of the keys, and one segment at a time while reading): close() it when done.
   */
  async readBucket(target: BackupTarget, manifest: BackupManifest, source: Extract<HistorySource, { kind: 'backup' }>, bucket: string, prefix: string, atMs: number, signal: AbortSignal): Promise<BucketHistorySpill> {
    const history = await BucketHistorySpill.open(bucket, prefix, atMs, this.spillPlace());
    try {
      await spillBackupSegments(target, manifest, history, signal);
      if (source.liveFromSequence !== null) await this.readLiveTail(history, source.liveFromSequence, signal);
      return history;
    } catch (error) {
      await history.close();
      throw error;
    }
  }

  /** The bucket's events on the live log from `fromSequence` to its last one now (its own subject's, then its keys', each in stream order). */
  private async readLiveTail(history: BucketHistorySpill, fromSequence: number, signal: AbortSignal): Promise<void> {
    const s = subjectsFor(this.identity.namespace);
    const stream = s.streamName('META');
    const jsm = await this.nats.jetstreamManager();
    const state = (await jsm.streams.info(stream)).state;
    if (state.first_seq > fromSequence) throw new Error(`the live log no longer holds event #${fromSequence} (its oldest is #${state.first_seq}): the backup and the live log do not meet`);
    const token = bucketToken(history.bucket);
    const prefixLength = this.identity.namespace ? this.identity.namespace.length + 1 : 0;
    const decoder = new TextDecoder();
    for (const filter of [s.prefix(`meta.bucket.${token}`), s.prefix(`meta.object.${token}.>`)]) {
      // An ordered consumer waits for ever when nothing matches: start it at the first match, if any.
      const first = await nextMessageOnSubject(jsm, stream, filter, fromSequence);
      if (first === null || first.seq > state.last_seq) continue;
      const js = await this.nats.jetstream();
      const consumer = await js.consumers.get(stream, { filterSubjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: first.seq });
      const messages = await consumer.consume();
      try {
        for await (const m of messages) {
          signal.throwIfAborted();
          if (m.seq > state.last_seq) break;
          await history.add(segmentLine(m.seq, m.subject.slice(prefixLength), decoder.decode(m.data)).trimEnd());
          if (m.seq >= state.last_seq || m.info.pending === 0) break;
        }
      } finally {
        await messages.close().catch(() => undefined);
      }
    }
  }
}

/** Every event of a backup's segments up to its cut into the history (one segment in memory at a time, each checked against its hash). */
export async function spillBackupSegments(target: BackupTarget, manifest: Pick<BackupManifest, 'segments' | 'cutSequence'>, history: BucketHistorySpill, signal: AbortSignal): Promise<void> {
  for (const segment of manifest.segments) {
    signal.throwIfAborted();
    const body = await target.get(segment.key);
    if (!body || sha256(body) !== segment.sha256) throw new Error(`segment ${segment.key} is missing or does not match its hash: verify the backup`);
    for (const line of body.toString('utf8').split('\n')) if (line.length > 0) await history.add(line, manifest.cutSequence);
  }
}

/** A target's complete backups as BackupReach: its chunks reach back to the previous cut of its oldest backup. */
export function backupReachesOf(target: string, manifests: readonly BackupManifest[]): BackupReach[] {
  if (manifests.length === 0) return [];
  const oldest = [...manifests].sort((a, b) => a.cutSequence - b.cutSequence)[0];
  // A backup written before previousCutAt was recorded: its chunks are known to reach its own cut only.
  const chunksFromMs = oldest.previousId === null ? null : Date.parse(oldest.previousCutAt ?? oldest.cutAt);
  return manifests.map((m) => ({
    target,
    backupId: m.id,
    cutSequence: m.cutSequence,
    cutAtMs: Date.parse(m.cutAt),
    firstSequence: m.segments[0]?.fromSequence ?? 1,
    chunksFromMs,
  }));
}
