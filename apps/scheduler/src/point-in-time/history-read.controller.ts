import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, type HistoryHeadReply, type HistoryHeadRequest } from '@cairn/protocol';
import { Access } from '@cairn/service-kit';
import { RegionChunks } from '../adapters/region-chunks';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';

/**
 * An object's bytes as of a moment, for `cairn object get --at`: metadata names the version that
 * was current then (from the event log), and its chunks are read from the storage nodes, verified,
 * and streamed. A version deleted since still reads as long as its chunks are held (the restore
 * window keeps them from garbage collection).
 */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin/history')
export class HistoryReadController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly chunks: RegionChunks,
  ) {}

  @Get('buckets/:bucket/object')
  @ApiOperation({ summary: "One key's bytes as of a moment (?key=&at=ISO[&versionId=]); headers carry the version's etag, size and version id" })
  @ApiQuery({ name: 'key', required: true })
  @ApiQuery({ name: 'at', required: true })
  @ApiQuery({ name: 'versionId', required: false })
  async objectAt(@Param('bucket') bucket: string, @Query('key') key: string, @Query('at') at: string, @Res() res: Response, @Query('versionId') versionId?: string): Promise<void> {
    const request: HistoryHeadRequest = { bucket, key, at, ...(versionId ? { versionId } : {}) };
    const version = await this.rpc.request<HistoryHeadReply>(METADATA_SERVICE, MetadataRpc.historyHead, request, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
    res.status(200);
    res.setHeader('content-type', version.contentType ?? 'application/octet-stream');
    res.setHeader('content-length', String(version.sizeBytes));
    res.setHeader('etag', `"${version.etag ?? ''}"`);
    res.setHeader('x-cairn-version-id', version.versionId);
    res.setHeader('last-modified', new Date(version.lastModified).toUTCString());
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    await pipeline(Readable.from(this.chunks.objectBytes(version.chunks, abort.signal)), res).catch(() => res.destroy());
  }
}
