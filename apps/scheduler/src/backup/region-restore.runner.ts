import { Injectable, Logger } from '@nestjs/common';
import { NatsConnectionManager, nextMessageOnSubject, RpcClient } from '@cairn/messaging';
import {
  CairnError,
  IMPORT_BYTES_MAX,
  IMPORT_EVENTS_MAX,
  METADATA_SERVICE,
  MetadataRpc,
  subjectsFor,
  type ImportedEvent,
  type ImportEventsReply,
} from '@cairn/protocol';
import { Inject } from '@nestjs/common';
import { runPool, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { BytePacer } from '../adapters/byte-pacer';
import { RegionChunks } from '../adapters/region-chunks';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { waitForMetaProjection } from '../adapters/meta-projection-wait';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import { reportProgress, type ProgressReport, type RateBaseline } from '../domain/job-progress';
import { ChunkTracker, parseSegment, type BackupManifest } from './backup-format';
import type { BackupTarget } from './backup-target.port';
import { BackupErrorCodes } from './backup-targets.store';
import { copyChunkBack } from './chunk-copy-back';
import { sha256 } from './backup.runner';

const RESTORE_COPY_CONCURRENCY = 4;

export interface RegionRestoreReport {
  readonly id: string;
  readonly target: string;
  readonly backupId: string;
  readonly cutSequence: number;
  readonly cutAt: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly phase: 'starting' | 'chunks' | 'events' | 'projecting' | 'done';
  readonly chunks: ProgressReport;
  readonly chunksAlreadyHere: number;
  readonly events: { readonly done: number; readonly total: number; readonly imported: number; readonly duplicates: number; readonly skipped: number };
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** Restore time, start to the projection caught up (the RTO of this restore). */
  readonly tookMs?: number;
  readonly error?: string;
}

/** Where a region restore got to: saved after each batch, so one that died goes on from there. */
interface RegionRestoreState {
  readonly id: string;
  readonly chunksDone: boolean;
  readonly eventsDone: number;
}

/**
 * Restores a whole region from a backup into an empty region (docs/backups.md): first every chunk
 * the backup's cut needs, written to this region's ring at quorum (so no object becomes visible
 * before its bytes are here), then the events, replayed into META through metadata in their
 * order; metadata's projector rebuilds the tables from them as it would from any append. The
 * chunks are fresh writes until their events arrive, which garbage collection leaves alone for its
 * whole retention. It is resumable: chunks already here are skipped, events go on from the last
 * batch acknowledged (a batch sent twice is deduplicated by event id).
 */
@Injectable()
export class RegionRestoreRunner {
  private readonly logger = new Logger('RegionRestore');

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly rpc: RpcClient,
    private readonly chunks: RegionChunks,
    private readonly state: SchedulerStateStore,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  async run(id: string, targetName: string, target: BackupTarget, manifest: BackupManifest, pace: BytePacer, signal: AbortSignal, onProgress: (r: RegionRestoreReport) => Promise<void>): Promise<RegionRestoreReport> {
    const saved = await this.state.getJson<RegionRestoreState>(`region-restore:state:${id}`);
    if (!saved) await this.refuseUnlessEmpty();
    const progress = saved ?? { id, chunksDone: false, eventsDone: 0 };
    const report = new Builder(id, targetName, manifest);
    const totalEvents = manifest.segments.reduce((n, s) => n + s.events, 0);
    report.eventsTotal(totalEvents, progress.eventsDone);

    // The chunks the cut needs, from the events themselves.
    const tracker = new ChunkTracker();
    const segments: Buffer[] = [];
    for (const segment of manifest.segments) {
      const body = await target.get(segment.key);
      if (!body || sha256(body) !== segment.sha256) throw new Error(`segment ${segment.key} is missing or does not match its hash: verify the backup`);
      segments.push(body);
      for (const e of parseSegment(body.toString('utf8'))) tracker.observe(e.subject, e.event.type, e.event.data ?? {});
    }
    if (!progress.chunksDone) {
      report.phase('chunks');
      const needed = [...tracker.needed()];
      report.chunksPlanned(needed.length, needed.reduce((n, [, size]) => n + size, 0));
      await onProgress(report.report());
      await runPool(needed, RESTORE_COPY_CONCURRENCY, signal, async ([hash, size]) => {
        if ((await copyChunkBack(this.chunks, target, hash, size, pace, signal)) === 'here') {
          report.chunkHere(size);
          return;
        }
        report.chunkDone(size);
        await onProgress(report.report());
      });
      await this.state.setJson(`region-restore:state:${id}`, { ...progress, chunksDone: true });
    }

    report.phase('events');
    await onProgress(report.report());
    const firstOf = new Map<string, string>();
    let index = 0;
    let batch: ImportedEvent[] = [];
    let batchBytes = 0;
    let eventsDone = progress.eventsDone;
    const send = async () => {
      if (batch.length === 0) return;
      const reply = await this.rpc.request<ImportEventsReply>(METADATA_SERVICE, MetadataRpc.importEvents, { events: batch }, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
      eventsDone += batch.length;
      report.eventsImported(batch.length, reply);
      batch = [];
      batchBytes = 0;
      await this.state.setJson(`region-restore:state:${id}`, { id, chunksDone: true, eventsDone });
      await onProgress(report.report());
    };
    for (const body of segments) {
      for (const e of parseSegment(body.toString('utf8'))) {
        signal.throwIfAborted();
        if (!firstOf.has(e.subject)) firstOf.set(e.subject, e.event.id);
        if (index++ < eventsDone) continue;
        const item: ImportedEvent = { subject: e.subject, event: e.event as unknown as ImportedEvent['event'], firstEventIdOfSubject: firstOf.get(e.subject)! };
        const size = JSON.stringify(item).length;
        if (batch.length >= IMPORT_EVENTS_MAX || batchBytes + size > IMPORT_BYTES_MAX) await send();
        batch.push(item);
        batchBytes += size;
      }
    }
    await send();

    report.phase('projecting');
    await onProgress(report.report());
    await waitForMetaProjection(this.rpc, 'end', signal, this.logger);
    report.finish();
    await this.state.setJson(`region-restore:state:${id}`, null);
    const done = report.report();
    this.logger.log(`region restored from ${targetName}/${manifest.id} (cut #${manifest.cutSequence}) in ${done.tookMs} ms: ${done.chunks.doneItems} chunks, ${done.events.imported} events`);
    return done;
  }

  /** An "empty region" has no buckets: a restore never merges one region's namespace into another's. */
  private async refuseUnlessEmpty(): Promise<void> {
    const s = subjectsFor(this.identity.namespace);
    const jsm = await this.nats.jetstreamManager();
    const bucketEvent = await nextMessageOnSubject(jsm, s.streamName('META'), s.bucketWildcard(), 1);
    if (bucketEvent) throw new CairnError(BackupErrorCodes.RegionNotEmpty, 'this region already has buckets: a backup is restored into an empty region (restore single buckets with cairn restore)');
  }

}

class Builder {
  private readonly startedAtMs = Date.now();
  private phaseNow: RegionRestoreReport['phase'] = 'starting';
  private state: RegionRestoreReport['state'] = 'running';
  private items = 0;
  private bytes = 0;
  private itemsDone = 0;
  private bytesDone = 0;
  private here = 0;
  private chunksStartedAtMs = Date.now();
  private baseline?: RateBaseline;
  private total = 0;
  private done = 0;
  private imported = 0;
  private duplicates = 0;
  private skipped = 0;
  private finishedAtMs: number | null = null;

  constructor(
    private readonly id: string,
    private readonly target: string,
    private readonly manifest: BackupManifest,
  ) {}

  phase(phase: RegionRestoreReport['phase']): void {
    this.phaseNow = phase;
    if (phase === 'chunks') this.chunksStartedAtMs = Date.now();
  }

  chunksPlanned(items: number, bytes: number): void {
    this.items = items;
    this.bytes = bytes;
  }

  chunkHere(size: number): void {
    this.here++;
    this.chunkDone(size);
  }

  chunkDone(size: number): void {
    this.itemsDone++;
    this.bytesDone += size;
    this.baseline ??= { atMs: Date.now(), counts: this.counts() };
  }

  eventsTotal(total: number, done: number): void {
    this.total = total;
    this.done = done;
  }

  eventsImported(n: number, reply: ImportEventsReply): void {
    this.done += n;
    this.imported += reply.imported;
    this.duplicates += reply.duplicates;
    this.skipped += reply.skipped;
  }

  finish(): void {
    this.phaseNow = 'done';
    this.state = 'done';
    this.finishedAtMs = Date.now();
  }

  private counts() {
    return { doneItems: this.itemsDone, totalItems: this.items, doneBytes: this.bytesDone, totalBytes: this.bytes };
  }

  report(): RegionRestoreReport {
    const now = this.finishedAtMs ?? Date.now();
    return {
      id: this.id,
      target: this.target,
      backupId: this.manifest.id,
      cutSequence: this.manifest.cutSequence,
      cutAt: this.manifest.cutAt,
      state: this.state,
      phase: this.phaseNow,
      chunks: reportProgress(this.counts(), this.chunksStartedAtMs, now, this.baseline),
      chunksAlreadyHere: this.here,
      events: { done: this.done, total: this.total, imported: this.imported, duplicates: this.duplicates, skipped: this.skipped },
      startedAt: new Date(this.startedAtMs).toISOString(),
      ...(this.finishedAtMs ? { finishedAt: new Date(this.finishedAtMs).toISOString(), tookMs: this.finishedAtMs - this.startedAtMs } : {}),
    };
  }
}
