import { Controller, Delete, Get, Head, Inject, Param, Put, Query, Req, Res, ValidationPipe } from '@nestjs/common';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import {
  CHUNK_MEDIA_TYPE,
  CairnError,
  STORAGE_CHUNKS_SEGMENT,
  StorageErrorCodes,
  StorageHeaders,
  StorageStatusByErrorCode,
  type PutChunkReply,
} from '@cairn/protocol';
import { isContentHash, type ContentHash } from '@cairn/hashing';
import { parseFencingToken, resolveRange } from '../domain/chunk-layout';
import { CHUNK_STORE, type ChunkStore } from '../domain/chunk-store.port';
import type { FileFencingTokenStore } from '../adapters/file-fencing-token.adapter';
import { ListChunksRequestDto } from './list-chunks.request.dto';
import { FENCING_TOKEN_STORE } from './storage-config';

const STATUS_BY_CODE: Readonly<Record<string, number>> = StorageStatusByErrorCode;

/**
 * The storage node's HTTP data plane (ARCHITECTURE.md §3). Bodies are raw streams in both
 * directions, never parsed or buffered whole; handlers write their responses themselves.
 */
@Controller(STORAGE_CHUNKS_SEGMENT)
export class ChunksController {
  constructor(
    @Inject(CHUNK_STORE) private readonly store: ChunkStore,
    @Inject(FENCING_TOKEN_STORE) private readonly fencing: FileFencingTokenStore,
  ) {}

  @Put(':hash')
  async put(@Param('hash') rawHash: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const hash = this.hashOrReply(rawHash, res);
    if (!hash) return;
    const mediaType = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
    if (mediaType !== undefined && mediaType !== CHUNK_MEDIA_TYPE) {
      return replyError(res, new CairnError(StorageErrorCodes.UnsupportedMediaType, `chunk bodies are ${CHUNK_MEDIA_TYPE}, not ${mediaType}`));
    }
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    try {
      const result = await this.store.put(hash, req, declared);
      res.status(result.existed ? 200 : 201).setHeader(StorageHeaders.ChunkExisted, String(result.existed));
      const reply: PutChunkReply = { hash: result.hash, sizeBytes: result.sizeBytes, existed: result.existed };
      res.json(reply);
    } catch (error) {
      if (error instanceof CairnError && error.code === StorageErrorCodes.BodyAborted) {
        res.destroy();
        return;
      }
      // The rest of an unread body is not worth reading: answer, then close the connection.
      if (!req.complete) res.setHeader('connection', 'close');
      replyError(res, error);
    }
  }

  @Get()
  async list(@Query(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true })) query: ListChunksRequestDto, @Res() res: Response): Promise<void> {
    const listing = await this.store.list({ prefix: query.prefix ?? '', after: query.after || null, limit: query.limit });
    res.status(200).json(listing);
  }

  @Head(':hash')
  async head(@Param('hash') rawHash: string, @Res() res: Response): Promise<void> {
    const hash = this.hashOrReply(rawHash, res);
    if (!hash) return;
    const sizeBytes = await this.store.sizeOf(hash);
    if (sizeBytes === null) {
      res.status(404).end();
      return;
    }
    setChunkHeaders(res, hash, sizeBytes);
    res.status(200).end();
  }

  @Get(':hash')
  async get(@Param('hash') rawHash: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const hash = this.hashOrReply(rawHash, res);
    if (!hash) return;
    const sizeBytes = await this.store.sizeOf(hash);
    if (sizeBytes === null) return replyError(res, new CairnError(StorageErrorCodes.NoSuchChunk, `no chunk ${hash} here`));
    const wanted = resolveRange(req.headers.range, sizeBytes);
    if (wanted.kind === 'unsatisfiable') {
      res.status(416).setHeader('content-range', `bytes */${sizeBytes}`);
      res.end();
      return;
    }
    const handle = await this.store.read(hash, wanted.kind === 'range' ? wanted.range : null);
    if (!handle) return replyError(res, new CairnError(StorageErrorCodes.NoSuchChunk, `no chunk ${hash} here`));
    setChunkHeaders(res, hash, handle.range.end - handle.range.start);
    if (wanted.kind === 'range') {
      res.status(206).setHeader('content-range', `bytes ${handle.range.start}-${handle.range.end - 1}/${sizeBytes}`);
    } else {
      res.status(200);
    }
    let sent = false;
    try {
      await pipeline(handle.stream, res);
      sent = true;
    } catch {
      // Headers are gone already: cutting the connection short is how the reader learns the
      // body is not good (a corrupt chunk) or that it went away.
      res.destroy();
    } finally {
      handle.done?.(sent);
    }
  }

  @Delete(':hash')
  async delete(@Param('hash') rawHash: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const hash = this.hashOrReply(rawHash, res);
    if (!hash) return;
    const header = req.headers[StorageHeaders.FencingToken];
    const token = parseFencingToken(Array.isArray(header) ? undefined : header);
    if (token === null) return replyError(res, new CairnError(StorageErrorCodes.FencingTokenMissing, `DELETE needs a numeric ${StorageHeaders.FencingToken} header`));
    try {
      await this.fencing.admit(token);
    } catch (error) {
      return replyError(res, error);
    }
    const deleted = await this.store.delete(hash);
    if (!deleted) return replyError(res, new CairnError(StorageErrorCodes.NoSuchChunk, `no chunk ${hash} here`));
    res.status(204).end();
  }

  private hashOrReply(raw: string, res: Response): ContentHash | null {
    if (isContentHash(raw)) return raw;
    replyError(res, new CairnError(StorageErrorCodes.InvalidHash, 'a chunk is named by the lowercase hex SHA-256 of its bytes'));
    return null;
  }
}

function setChunkHeaders(res: Response, hash: ContentHash, contentLength: number): void {
  res.setHeader('content-type', CHUNK_MEDIA_TYPE);
  res.setHeader('content-length', String(contentLength));
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('etag', `"${hash}"`);
}

function replyError(res: Response, error: unknown): void {
  const cairn = error instanceof CairnError ? error : new CairnError('INTERNAL', error instanceof Error ? error.message : String(error));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(STATUS_BY_CODE[cairn.code] ?? 500).json(cairn.toReply());
}
