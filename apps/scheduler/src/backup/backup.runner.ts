import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy } from 'nats';
import { describeError } from '@cairn/chunk-client';
import type { ContentHash } from '@cairn/hashing';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, subjectsFor, type ListBucketsReply, type ListNodesReply } from '@cairn/protocol';
import { runPool, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { BytePacer } from '../adapters/byte-pacer';
import { RegionChunks } from '../adapters/region-chunks';
import { waitForMetaProjection } from '../adapters/meta-projection-wait';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import { reportProgress, type ProgressReport, type RateBaseline } from '../domain/job-progress';
import {
  BACKUP_FORMAT,
  BackupKeys,
  ChunkTracker,
  hashOfChunkKey,
  newBackupId,
  SEGMENT_BYTES_MAX,
  SEGMENT_EVENTS_MAX,
  segmentLine,
  type BackupManifest,
  type BackupProgressFile,
  type SegmentRef,
} from './backup-format';
import type { BackupTarget } from './backup-target.port';

/** Chunks copied to a target at once. */
export const BACKUP_COPY_CONCURRENCY = 4;

export interface BackupReport {
  readonly id: string;
  readonly target: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly phase: 'starting' | 'events' | 'chunks' | 'finishing' | 'done';
  readonly resumed: boolean;
  readonly previousId: string | null;
  readonly previousCutSequence: number;
  readonly cutSequence: number;
  readonly events: { readonly done: number; readonly total: number };
  /** Chunks to copy: items and bytes, rate and ETA. */
  readonly chunks: ProgressReport;
  readonly chunksAlreadyThere: number;
  readonly bytesWritten: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
}

/**
 * One backup of the region to one target (backup-format.ts): a cut at META's last sequence, the
 * events since the previous backup's cut in segments, every chunk they name that the target lacks,
 * the configuration, and last the manifest. Every step is idempotent for a given id and cut, so a
 * backup that died (kill -9) is resumed by running it again: segments already written are skipped
 * (same boundaries, same bytes), chunks already in the target are not copied again.
 */
@Injectable()
export class BackupRunner {
  private readonly logger = new Logger('BackupRunner');

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly rpc: RpcClient,
    private readonly chunks: RegionChunks,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  async run(targetName: string, target: BackupTarget, pace: BytePacer, signal: AbortSignal, onProgress: (report: BackupReport) => Promise<void>): Promise<BackupManifest> {
    const manifests = await readManifests(target);
    const latest = manifests.at(-1) ?? null;
    const unfinished = await this.unfinished(target, manifests);
    const subjects = subjectsFor(this.identity.namespace);
    const stream = subjects.streamName('META');
    const jsm = await this.nats.jetstreamManager();
    const progress: BackupProgressFile = unfinished ?? {
      format: BACKUP_FORMAT,
      id: newBackupId(Date.now(), randomBytes(2).toString('hex')),
      previousId: latest?.id ?? null,
      previousCutSequence: latest?.cutSequence ?? 0,
      cutSequence: (await jsm.streams.info(stream)).state.last_seq,
      startedAt: new Date().toISOString(),
      segments: [],
    };
    if (!unfinished) await target.put(BackupKeys.progress(progress.id), json(progress));
    const previous = progress.previousId ? manifests.find((m) => m.id === progress.previousId) ?? null : null;
    const report = new BackupReportBuilder(progress, targetName, unfinished !== null);
    let bytesWritten = 0;
    await onProgress(report.report());

    // 1. Events after the previous cut up to this one, in segments.
    report.phase('events');
    const tracker = new ChunkTracker();
    const done = new Map(progress.segments.map((s) => [s.fromSequence, s]));
    const segments: SegmentRef[] = [...progress.segments];
    let cutAt = progress.startedAt;
    let lines: string[] = [];
    let lineBytes = 0;
    let from = 0;
    let to = 0;
    const flush = async () => {
      if (lines.length === 0) return;
      const body = Buffer.from(lines.join(''), 'utf8');
      const key = BackupKeys.segment(from, to);
      const written = done.get(from);
      if (!written || written.toSequence !== to || (await target.head(key)) !== body.length) {
        await pace.take(body.length, signal);
        await target.put(key, body);
        bytesWritten += body.length;
        const ref: SegmentRef = { key, fromSequence: from, toSequence: to, events: lines.length, bytes: body.length, sha256: sha256(body) };
        segments.push(ref);
        await target.put(BackupKeys.progress(progress.id), json({ ...progress, segments: segments.slice() }));
      }
      lines = [];
      lineBytes = 0;
    };
    const prefixLength = this.identity.namespace ? this.identity.namespace.length + 1 : 0;
    if (progress.cutSequence > progress.previousCutSequence) {
      const js = await this.nats.jetstream();
      const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: progress.previousCutSequence + 1 });
      const messages = await consumer.consume();
      try {
        for await (const m of messages) {
          signal.throwIfAborted();
          if (m.seq > progress.cutSequence) break;
          const text = new TextDecoder().decode(m.data);
          const envelope = JSON.parse(text) as { type: string; occurredAt: string; data: Record<string, unknown> };
          tracker.observe(m.subject, envelope.type, envelope.data ?? {});
          cutAt = envelope.occurredAt ?? cutAt;
          if (lines.length === 0) from = m.seq;
          to = m.seq;
          const line = segmentLine(m.seq, m.subject.slice(prefixLength), text);
          lines.push(line);
          lineBytes += line.length;
          report.event();
          if (lines.length >= SEGMENT_EVENTS_MAX || lineBytes >= SEGMENT_BYTES_MAX) {
            await flush();
            await onProgress(report.report());
          }
          if (m.seq >= progress.cutSequence || m.info.pending === 0) break;
        }
      } finally {
        await messages.close().catch(() => undefined);
      }
      await flush();
    } else if (previous) {
      cutAt = previous.cutAt;
    }
    const newSegments = segments.filter((s) => s.fromSequence > progress.previousCutSequence).sort((a, b) => a.fromSequence - b.fromSequence);
    // Every new event must be in a segment before the backup can be complete.
    const covered = newSegments.reduce((n, s) => n + s.events, 0);
    const expected = progress.cutSequence - progress.previousCutSequence;
    if (covered !== expected) throw new Error(`the segments hold ${covered} of the ${expected} events after sequence ${progress.previousCutSequence}: META has gaps or was rewritten`);

    // 2. Chunks the target lacks: the ones still referenced at the cut must all be there.
    report.phase('chunks');
    await onProgress(report.report());
    const inTarget = new Set<string>();
    for await (const key of target.list(BackupKeys.chunksPrefix)) {
      const hash = hashOfChunkKey(key);
      if (hash) inTarget.add(hash);
    }
    const needed = tracker.needed();
    const toCopy = [...tracker.all()].filter(([hash]) => !inTarget.has(hash));
    report.chunksPlanned(toCopy.length, toCopy.reduce((sum, [, size]) => sum + size, 0), tracker.all().size - toCopy.length);
    let copied = 0;
    let copiedBytes = 0;
    let goneUnreferenced = 0;
    const missingNeeded: string[] = [];
    await runPool(toCopy, BACKUP_COPY_CONCURRENCY, signal, async ([hash, size]) => {
      await pace.take(size, signal);
      let bytes: Buffer;
      try {
        bytes = await this.readChunk(hash);
      } catch (error) {
        if (needed.has(hash)) missingNeeded.push(`${hash}: ${describeError(error)}`);
        else goneUnreferenced++;
        report.chunkDone(size);
        return;
      }
      await target.put(BackupKeys.chunk(hash), bytes);
      copied++;
      copiedBytes += bytes.length;
      bytesWritten += bytes.length;
      report.chunkDone(size);
      await onProgress(report.report());
    });
    if (missingNeeded.length > 0) {
      throw new Error(`${missingNeeded.length} chunks referenced at the cut are on no storage node: ${missingNeeded.slice(0, 3).join('; ')}`);
    }

    // 3. The configuration as it is, then the manifest: the backup is complete.
    report.phase('finishing');
    await onProgress(report.report());
    // A burst of writes just before the cut can keep the projection behind it for minutes.
    await waitForMetaProjection(this.rpc, progress.cutSequence, signal, this.logger, () => onProgress(report.report()));
    const configuration = json(await this.configuration(progress.cutSequence));
    await target.put(BackupKeys.configuration(progress.id), configuration);
    bytesWritten += configuration.length;
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      id: progress.id,
      region: this.identity.region,
      namespace: this.identity.namespace,
      previousId: progress.previousId,
      previousCutSequence: progress.previousCutSequence,
      previousCutAt: previous?.cutAt ?? null,
      cutSequence: progress.cutSequence,
      cutAt,
      startedAt: progress.startedAt,
      completedAt: new Date().toISOString(),
      segments: [...(previous?.segments ?? []), ...newSegments],
      newEvents: expected,
      chunks: { named: tracker.all().size, needed: needed.size, copied, copiedBytes, alreadyThere: tracker.all().size - toCopy.length, goneUnreferenced },
      configuration: { key: BackupKeys.configuration(progress.id), sha256: sha256(configuration) },
      bytesWritten,
    };
    await target.put(BackupKeys.manifest(progress.id), json(manifest));
    report.finish(bytesWritten);
    await onProgress(report.report());
    this.logger.log(`backup ${manifest.id} to ${targetName}: cut at META #${manifest.cutSequence} (${expected} new events), ${copied} chunks copied (${copiedBytes} bytes), ${manifest.chunks.alreadyThere} already there`);
    return manifest;
  }

  /** A backup of this target that has a progress file but no manifest (died mid-run). */
  private async unfinished(target: BackupTarget, manifests: readonly BackupManifest[]): Promise<BackupProgressFile | null> {
    const complete = new Set(manifests.map((m) => m.id));
    const candidates: string[] = [];
    for await (const key of target.list(BackupKeys.backupsPrefix)) {
      const m = /^backups\/([^/]+)\/progress\.json$/.exec(key);
      if (m && !complete.has(m[1])) candidates.push(m[1]);
    }
    candidates.sort();
    const newest = candidates.at(-1);
    if (!newest) return null;
    const body = await target.get(BackupKeys.progress(newest));
    return body ? (JSON.parse(body.toString('utf8')) as BackupProgressFile) : null;
  }

  private async readChunk(hash: string): Promise<Buffer> {
    const read = await this.chunks.client.readChunk(hash as ContentHash);
    const pieces: Buffer[] = [];
    for await (const piece of read.stream) pieces.push(piece as Buffer);
    return Buffer.concat(pieces);
  }

  private async configuration(cutSequence: number): Promise<unknown> {
    const [buckets, nodes] = await Promise.all([
      this.rpc.request<ListBucketsReply>(METADATA_SERVICE, MetadataRpc.listBuckets, { minSequence: cutSequence }, { timeoutMs: METADATA_RPC_TIMEOUT_MS }),
      this.rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}, { timeoutMs: METADATA_RPC_TIMEOUT_MS }),
    ]);
    return { region: this.identity.region, namespace: this.identity.namespace, cutSequence, takenAt: new Date().toISOString(), buckets: buckets.buckets, nodes: nodes.nodes };
  }
}

/** Every complete backup of the target, oldest cut first. */
export async function readManifests(target: BackupTarget): Promise<BackupManifest[]> {
  const out: BackupManifest[] = [];
  for await (const key of target.list(BackupKeys.backupsPrefix)) {
    if (!key.endsWith('/manifest.json')) continue;
    const body = await target.get(key);
    if (body) out.push(JSON.parse(body.toString('utf8')) as BackupManifest);
  }
  return out.sort((a, b) => a.cutSequence - b.cutSequence || (a.id < b.id ? -1 : 1));
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 1)}\n`, 'utf8');
}

class BackupReportBuilder {
  private readonly startedAtMs = Date.now();
  private phaseNow: BackupReport['phase'] = 'starting';
  private state: BackupReport['state'] = 'running';
  private eventsDone = 0;
  private chunkItems = 0;
  private chunkBytes = 0;
  private chunkItemsDone = 0;
  private chunkBytesDone = 0;
  private already = 0;
  private chunksStartedAtMs = Date.now();
  private baseline?: RateBaseline;
  private written = 0;
  private finishedAtMs: number | null = null;
  private error?: string;

  constructor(
    private readonly progress: BackupProgressFile,
    private readonly target: string,
    private readonly resumed: boolean,
  ) {}

  phase(phase: BackupReport['phase']): void {
    this.phaseNow = phase;
    if (phase === 'chunks') this.chunksStartedAtMs = Date.now();
  }

  event(): void {
    this.eventsDone++;
  }

  chunksPlanned(items: number, bytes: number, already: number): void {
    this.chunkItems = items;
    this.chunkBytes = bytes;
    this.already = already;
  }

  chunkDone(bytes: number): void {
    this.chunkItemsDone++;
    this.chunkBytesDone += bytes;
    this.baseline ??= { atMs: Date.now(), counts: this.counts() };
  }

  finish(bytesWritten: number): void {
    this.written = bytesWritten;
    this.phaseNow = 'done';
    this.state = 'done';
    this.finishedAtMs = Date.now();
  }

  fail(error: string): void {
    this.state = 'failed';
    this.error = error;
    this.finishedAtMs = Date.now();
  }

  private counts() {
    return { doneItems: this.chunkItemsDone, totalItems: this.chunkItems, doneBytes: this.chunkBytesDone, totalBytes: this.chunkBytes };
  }

  report(): BackupReport {
    const now = this.finishedAtMs ?? Date.now();
    return {
      id: this.progress.id,
      target: this.target,
      state: this.state,
      phase: this.phaseNow,
      resumed: this.resumed,
      previousId: this.progress.previousId,
      previousCutSequence: this.progress.previousCutSequence,
      cutSequence: this.progress.cutSequence,
      events: { done: this.eventsDone, total: this.progress.cutSequence - this.progress.previousCutSequence },
      chunks: reportProgress(this.counts(), this.chunksStartedAtMs, now, this.baseline),
      chunksAlreadyThere: this.already,
      bytesWritten: this.written,
      startedAt: new Date(this.startedAtMs).toISOString(),
      ...(this.finishedAtMs ? { finishedAt: new Date(this.finishedAtMs).toISOString() } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}

