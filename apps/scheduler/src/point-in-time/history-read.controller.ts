import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RpcClient } from '@cairn/messaging';
import {
  CairnError,
  HISTORY_LIST_LIMIT_MAX,
  HISTORY_MOMENT_PATTERN,
  isErasureCodedChunk,
  METADATA_SERVICE,
  MetadataRpc,
  type ChunkRef,
  type HistoryHeadFromEventsRequest,
  type HistoryHeadReply,
  type HistoryHeadRequest,
  type HistoryListFromEventsReply,
  type HistoryListFromEventsRequest,
  type HistoryListReply,
  type HistoryListRequest,
  type HistoryObjectSummary,
} from '@cairn/protocol';
import { Access } from '@cairn/service-kit';
import { RegionChunks } from '../adapters/region-chunks';
import { BackupKeys } from '../backup/backup-format';
import type { BackupTarget } from '../backup/backup-target.port';
import { BackupTargetsStore } from '../backup/backup-targets.store';
import { sha256 } from '../backup/backup.runner';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import { keyRangePages, type HistorySource } from '../domain/history-source';
import { BackupHistoryReader } from './backup-history.reader';
import { compareKeys, type BucketHistorySpill } from './bucket-history-spill';
import { RESTORE_FROM_BACKUP_PAGE_BYTES, RESTORE_PLAN_PAGE } from './restore.queue';

/** A read of the past has no restore window to respect: the live log serves any moment while it is whole. */
const READ_WINDOW_MS = Number.MAX_SAFE_INTEGER;

/**
 * The past as of a moment, for `cairn bucket ls --at` and `cairn object get --at`: from the live
 * event log while it is whole (metadata folds it), else from the newest backup that reaches the
 * moment (chooseHistorySource), whose events metadata folds the same way. An object's bytes come
 * from the storage nodes, verified; a chunk the region no longer holds is read from the backup
 * target, checked against its hash (an erasure-coded chunk shard by shard, decoded as the gateway does).
 */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin/history')
export class HistoryReadController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly chunks: RegionChunks,
    private readonly history: BackupHistoryReader,
    private readonly targets: BackupTargetsStore,
  ) {}

  @Get('buckets/:bucket/objects')
  @ApiOperation({ summary: 'The live objects of a bucket as of a moment (?at=ISO[&prefix=&after=&limit=]), in key order, with the source the history came from (live log or backup)' })
  @ApiQuery({ name: 'at', required: true })
  async listAt(@Param('bucket') bucket: string, @Query('at') at: string, @Query('prefix') prefix?: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    const atMs = momentOf(at);
    const source = await this.history.sourceFor(atMs, READ_WINDOW_MS, 0);
    const max = limitOf(limit);
    if (source.kind === 'live') {
      const request: HistoryListRequest = { bucket, at, ...(prefix ? { prefix } : {}), ...(after ? { after } : {}), limit: max };
      return { ...(await this.rpc.request<HistoryListReply>(METADATA_SERVICE, MetadataRpc.historyList, request, { timeoutMs: METADATA_RPC_TIMEOUT_MS })), source };
    }
    return this.fromBackup(source, bucket, prefix ?? '', atMs, async (history) => {
      const keys = (await history.keys()).filter((k) => !after || compareKeys(k.key, after) > 0);
      const objects: HistoryObjectSummary[] = [];
      let nextAfter: string | null = null;
      const bucketBytes = JSON.stringify(history.bucketEvents).length;
      pages: for (const page of keyRangePages(keys, (k) => k.bytes, RESTORE_PLAN_PAGE, Math.max(1, RESTORE_FROM_BACKUP_PAGE_BYTES - bucketBytes))) {
        const request: HistoryListFromEventsRequest = { bucket, at, bucketEvents: history.bucketEvents, keys: await history.eventsOf(page.keys) };
        const reply = await this.rpc.request<HistoryListFromEventsReply>(METADATA_SERVICE, MetadataRpc.historyListFromEvents, request, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
        for (const o of reply.objects) {
          if (objects.length === max) {
            nextAfter = objects[objects.length - 1].key;
            break pages;
          }
          objects.push(o);
        }
      }
      return { bucket, at: new Date(atMs).toISOString(), objects, nextAfter, asOfSequence: source.cutSequence, source };
    });
  }

  @Get('buckets/:bucket/object')
  @ApiOperation({ summary: "One key's bytes as of a moment (?key=&at=ISO[&versionId=]); headers carry the version's etag, size and version id, and where the history came from (x-cairn-history-source)" })
  @ApiQuery({ name: 'key', required: true })
  @ApiQuery({ name: 'at', required: true })
  @ApiQuery({ name: 'versionId', required: false })
  async objectAt(@Param('bucket') bucket: string, @Query('key') key: string, @Query('at') at: string, @Res() res: Response, @Query('versionId') versionId?: string): Promise<void> {
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const atMs = momentOf(at);
    const source = await this.history.sourceFor(atMs, READ_WINDOW_MS, 0);
    if (source.kind === 'live') {
      const request: HistoryHeadRequest = { bucket, key, at, ...(versionId ? { versionId } : {}) };
      const version = await this.rpc.request<HistoryHeadReply>(METADATA_SERVICE, MetadataRpc.historyHead, request, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
      await this.send(res, version, 'live', this.chunks.objectBytes(version.chunks, abort.signal));
      return;
    }
    if (typeof key !== 'string' || key === '') throw new CairnError('InvalidArgument', 'a key is required');
    await this.fromBackup(source, bucket, key, atMs, async (history, target) => {
      const ref = (await history.keys()).find((k) => k.key === key);
      const events = ref ? (await history.eventsOf([ref]))[0].events : [];
      const request: HistoryHeadFromEventsRequest = { bucket, key, at, ...(versionId ? { versionId } : {}), bucketEvents: history.bucketEvents, events };
      const version = await this.rpc.request<HistoryHeadReply>(METADATA_SERVICE, MetadataRpc.historyHeadFromEvents, request, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
      await this.send(res, version, `backup ${source.backupId}`, this.bytesWithBackup(version.chunks, target, abort.signal));
    });
  }

  private async send(res: Response, version: HistoryHeadReply, source: string, bytes: AsyncIterable<Buffer>): Promise<void> {
    res.status(200);
    res.setHeader('content-type', version.contentType ?? 'application/octet-stream');
    res.setHeader('content-length', String(version.sizeBytes));
    res.setHeader('etag', `"${version.etag ?? ''}"`);
    res.setHeader('x-cairn-version-id', version.versionId);
    res.setHeader('x-cairn-history-source', source);
    res.setHeader('last-modified', new Date(version.lastModified).toUTCString());
    await pipeline(Readable.from(bytes), res).catch(() => res.destroy());
  }

  /** The bucket's history from the backup the source names, with its target open for `use`. */
  private async fromBackup<T>(source: Extract<HistorySource, { kind: 'backup' }>, bucket: string, prefix: string, atMs: number, use: (history: BucketHistorySpill, target: BackupTarget) => Promise<T>): Promise<T> {
    const target = await this.targets.open(source.target);
    try {
      const manifest = await this.history.manifest(target, source.backupId);
      const history = await this.history.readBucket(target, manifest, source, bucket, prefix, atMs, new AbortController().signal);
      try {
        return await use(history, target);
      } finally {
        await history.close();
      }
    } finally {
      await target.close();
    }
  }

  /**
   * An object's bytes chunk by chunk: from the storage nodes where they still hold it, else from the
   * backup target. An erasure-coded chunk's shards are each taken from a node, else from the target
   * (both checked against the shard's hash), and the chunk decoded from any k of them.
   */
  private async *bytesWithBackup(chunks: readonly ChunkRef[], target: BackupTarget, signal: AbortSignal): AsyncGenerator<Buffer> {
    const shardsInTarget = (hash: string) => target.get(BackupKeys.chunk(hash));
    for (const chunk of chunks) {
      signal.throwIfAborted();
      if (isErasureCodedChunk(chunk)) {
        yield* this.chunks.objectBytes([chunk], signal, shardsInTarget);
        continue;
      }
      if (chunk.inline !== undefined || (await this.chunks.present(chunk))) {
        yield* this.chunks.objectBytes([chunk], signal);
        continue;
      }
      const bytes = await target.get(BackupKeys.chunk(chunk.hash));
      if (!bytes || sha256(bytes) !== chunk.hash) throw new Error(`chunk ${chunk.hash} is on no storage node and not (intact) in the backup target`);
      yield bytes;
    }
  }
}

function momentOf(at: unknown): number {
  if (typeof at !== 'string' || !HISTORY_MOMENT_PATTERN.test(at) || !Number.isFinite(Date.parse(at))) throw new CairnError('InvalidArgument', `"${String(at)}" is not an ISO 8601 instant with a zone (e.g. 2026-12-02T16:00:00Z)`);
  return Date.parse(at);
}

function limitOf(limit: string | undefined): number {
  if (limit === undefined || limit === '') return HISTORY_LIST_LIMIT_MAX;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > HISTORY_LIST_LIMIT_MAX) throw new CairnError('InvalidArgument', `limit must be an integer 1..${HISTORY_LIST_LIMIT_MAX}`);
  return n;
}
