import { Controller, Delete, Get, Head, Inject, Param, Post, Put, Query, Req, Res, UseFilters, ValidationPipe } from '@nestjs/common';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import {
  CHUNK_MEDIA_TYPE,
  CairnError,
  FENCING_RESOURCE_MAX_LENGTH,
  STORAGE_CHUNKS_SEGMENT,
  STORAGE_VERIFY_SEGMENT,
  StorageErrorCodes,
  StorageHeaders,
  StorageStatusByErrorCode,
  isFencingResourceName,
  type ChunkListingReply,
  type PutChunkReply,
  type VerifyChunksReply,
} from '@cairn/protocol';
import { isContentHash, type ContentHash } from '@cairn/hashing';
import { closeLingeringOnceAnswered, markRefusal, VerifiesOwnPayload } from '@cairn/service-kit';
import { parseEpochMs } from '../domain/chunk-maintenance';
import { parseFencingToken, resolveRange } from '../domain/chunk-layout';
import { storageFullIfOutOfSpace } from '../domain/chunk-store.errors';
import { CHUNK_STORE, type ChunkStore } from '../domain/chunk-store.port';
import type { FileFencingTokenStore } from '../adapters/file-fencing-token.adapter';
import { InvalidStorageRequestFilter } from './invalid-storage-request.filter';
import { takeSocketBody, type SocketBody } from './socket-body';
import { ListChunksRequestDto } from './list-chunks.request.dto';
import { FENCING_TOKEN_STORE } from './storage-config';
import { VerifyChunksRequestDto } from './verify-chunks.request.dto';

const STATUS_BY_CODE: Readonly<Record<string, number>> = StorageStatusByErrorCode;
const QUERY_VALIDATION = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

/**
 * The storage node's HTTP data plane (docs/architecture.md §3). Bodies are raw streams in both
 * directions, never parsed or buffered whole; handlers write their responses themselves.
 */
@Controller(STORAGE_CHUNKS_SEGMENT)
@UseFilters(InvalidStorageRequestFilter)
export class ChunksController {
  constructor(
    @Inject(CHUNK_STORE) private readonly store: ChunkStore,
    @Inject(FENCING_TOKEN_STORE) private readonly fencing: FileFencingTokenStore,
  ) {}

  @Put(':hash')
  @VerifiesOwnPayload() // the bytes are hashed as they arrive and refused unless they match the hash in the path
  async put(@Param('hash') rawHash: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const hash = this.hashOrReply(rawHash, res);
    if (!hash) return;
    const mediaType = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
    if (mediaType !== undefined && mediaType !== CHUNK_MEDIA_TYPE) {
      return replyError(res, new CairnError(StorageErrorCodes.UnsupportedMediaType, `chunk bodies are ${CHUNK_MEDIA_TYPE}, not ${mediaType}`));
    }
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    const taken: { body: SocketBody | null } = { body: null };
    const takeDirect = (lengthBytes: number) => (taken.body = takeSocketBody(req, lengthBytes));
    try {
      const result = await this.store.put(hash, req, declared, { takeDirect });
      // The HTTP parser never saw the body the node read itself: this connection carries no other request.
      taken.body?.closeOnceAnswered(res);
      res.status(result.existed ? 200 : 201).setHeader(StorageHeaders.ChunkExisted, String(result.existed));
      const reply: PutChunkReply = { hash: result.hash, sizeBytes: result.sizeBytes, existed: result.existed };
      res.json(reply);
    } catch (error) {
      if (error instanceof CairnError && error.code === StorageErrorCodes.BodyAborted) {
        res.destroy();
        return;
      }
      // The rest of an unread body is not worth reading: answer, then close the connection
      // lingeringly while the client may still send (or the reset overtakes the answer), whether
      // the server reads the body or the node took it from the socket and gave up part-way.
      if (taken.body) taken.body.closeOnceAnswered(res);
      else if (!req.complete) closeLingeringOnceAnswered(req, res);
      replyError(res, error);
    }
  }

  @Get()
  async list(@Query(QUERY_VALIDATION) query: ListChunksRequestDto, @Res() res: Response): Promise<void> {
    const listing = await this.store.list({ prefix: query.prefix ?? '', after: query.after || null, limit: query.limit, detail: query.detail === true });
    const reply: ChunkListingReply = listing.entries
      ? { hashes: listing.hashes, nextAfter: listing.nextAfter, entries: listing.entries.map((e) => ({ hash: e.hash, sizeBytes: e.sizeBytes, touchedAtMs: e.touchedAtMs })) }
      : { hashes: listing.hashes, nextAfter: listing.nextAfter };
    res.status(200).json(reply);
  }

  /** Scrub: re-reads and re-hashes a page of this node's chunks; corrupt ones are quarantined and reported. */
  @Post(STORAGE_VERIFY_SEGMENT)
  async verify(@Query(QUERY_VALIDATION) query: VerifyChunksRequestDto, @Res() res: Response): Promise<void> {
    try {
      const report = await this.store.verify({ after: query.after || null, limit: query.limit, maxBytes: query.maxBytes });
      const reply: VerifyChunksReply = {
        verifiedCount: report.verifiedCount,
        verifiedBytes: report.verifiedBytes,
        corrupt: report.corrupt,
        missing: report.missing,
        nextAfter: report.nextAfter,
      };
      res.status(200).json(reply);
    } catch (error) {
      replyError(res, error);
    }
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
    const readerVerifies = req.headers[StorageHeaders.ReaderVerifies] === 'true';
    const handle = await this.store.read(hash, wanted.kind === 'range' ? wanted.range : null, { readerVerifies });
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
    const token = parseFencingToken(singleHeader(req, StorageHeaders.FencingToken) ?? undefined);
    if (token === null) return replyError(res, new CairnError(StorageErrorCodes.FencingTokenMissing, `DELETE needs a numeric ${StorageHeaders.FencingToken} header`));
    const resource = singleHeader(req, StorageHeaders.FencingResource);
    if (resource === undefined) {
      return replyError(res, new CairnError(StorageErrorCodes.FencingResourceMissing, `DELETE needs a ${StorageHeaders.FencingResource} header: the lock resource whose lease issued the token`));
    }
    if (!isFencingResourceName(resource)) {
      return replyError(
        res,
        new CairnError(StorageErrorCodes.InvalidRequest, `${StorageHeaders.FencingResource} must be 1 to ${FENCING_RESOURCE_MAX_LENGTH} of the characters A-Z a-z 0-9 . _ / : -`),
      );
    }
    const rawSince = singleHeader(req, StorageHeaders.UnlessTouchedSince);
    // A condition that does not parse must not turn into an unconditional delete: refuse it.
    const unlessTouchedSinceMs = rawSince === undefined ? undefined : parseEpochMs(rawSince ?? undefined);
    if (unlessTouchedSinceMs === null) {
      return replyError(res, new CairnError(StorageErrorCodes.InvalidRequest, `${StorageHeaders.UnlessTouchedSince} must be epoch milliseconds in decimal`));
    }
    try {
      await this.fencing.admit(resource, token);
      const outcome = await this.store.delete(hash, { unlessTouchedSinceMs });
      if (outcome === 'absent') return replyError(res, new CairnError(StorageErrorCodes.NoSuchChunk, `no chunk ${hash} here`));
      if (outcome === 'recently-touched') {
        return replyError(
          res,
          new CairnError(StorageErrorCodes.ChunkRecentlyWritten, `chunk ${hash} was written or touched at or after ${unlessTouchedSinceMs}; kept`, {
            hash,
            unlessTouchedSinceMs,
          }),
        );
      }
      res.status(204).end();
    } catch (error) {
      replyError(res, error);
    }
  }

  private hashOrReply(raw: string, res: Response): ContentHash | null {
    if (isContentHash(raw)) return raw;
    replyError(res, new CairnError(StorageErrorCodes.InvalidHash, 'a chunk is named by the lowercase hex SHA-256 of its bytes'));
    return null;
  }
}

/** A header's value; null when it came as a list (which no header of this data plane may). */
function singleHeader(req: Request, name: string): string | undefined | null {
  const value = req.headers[name];
  return Array.isArray(value) ? null : value;
}

function setChunkHeaders(res: Response, hash: ContentHash, contentLength: number): void {
  res.setHeader('content-type', CHUNK_MEDIA_TYPE);
  res.setHeader('content-length', String(contentLength));
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('etag', `"${hash}"`);
}

function replyError(res: Response, failure: unknown): void {
  const error = storageFullIfOutOfSpace(failure);
  const cairn = error instanceof CairnError ? error : new CairnError('INTERNAL', error instanceof Error ? error.message : String(error));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A full disk is expected and the caller is told (it stores the chunk elsewhere): one warn line, no stack.
  if (cairn.code === StorageErrorCodes.StorageFull) markRefusal(res, cairn.message);
  res.status(STATUS_BY_CODE[cairn.code] ?? 500).json(cairn.toReply());
}
