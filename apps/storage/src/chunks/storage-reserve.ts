import { statfs } from 'node:fs/promises';
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { closeLingeringOnceAnswered, markRefusal } from '@cairn/service-kit';
import { StorageFullError } from '../domain/chunk-store.errors';
import { ChunksController } from './chunks.controller';
import { STORAGE_CONFIG, type StorageChunksConfig } from './storage-config';

/** Free space is read from the filesystem at most this often; writes accepted since are counted against it. */
const FREE_SPACE_MAX_AGE_MS = 1_000;
/** The reserve a node keeps unless configured otherwise (CAIRN_STORAGE_RESERVE_BYTES). */
export const DEFAULT_STORAGE_RESERVE_BYTES = 1024 * 1024 * 1024;

export type FreeBytesOf = (dir: string) => Promise<number>;

const freeBytesOnDisk: FreeBytesOf = async (dir) => {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
};

/**
 * A node takes a new chunk only while its disk keeps a reserve free: the Raft log, NATS and
 * Postgres often share that disk, and a filesystem filled to the last block fails them all. Below
 * the reserve, a PUT is refused before its body is read (507 STORAGE_FULL): the gateway stores
 * the chunk on the other replicas and records the missed copy for repair.
 */
@Injectable()
export class StorageReserve {
  private readonly reserveBytes: number;
  private measured: { readonly freeBytes: number; readonly atMs: number } | undefined;
  private acceptedSinceMeasure = 0;

  constructor(
    @Inject(STORAGE_CONFIG) private readonly config: StorageChunksConfig,
    private readonly freeBytesOf: FreeBytesOf = freeBytesOnDisk,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.reserveBytes = config.reserveBytes ?? DEFAULT_STORAGE_RESERVE_BYTES;
  }

  /** Throws StorageFullError unless `incomingBytes` (null: unknown length) fit above the reserve. */
  async admit(incomingBytes: number | null): Promise<void> {
    if (this.reserveBytes === 0) return;
    const free = (await this.freeBytes()) - this.acceptedSinceMeasure;
    if (free - (incomingBytes ?? 0) < this.reserveBytes) throw StorageFullError.belowReserve(Math.max(0, free), this.reserveBytes, incomingBytes);
    this.acceptedSinceMeasure += incomingBytes ?? 0;
  }

  private async freeBytes(): Promise<number> {
    const now = this.nowMs();
    if (!this.measured || now - this.measured.atMs >= FREE_SPACE_MAX_AGE_MS) {
      this.measured = { freeBytes: await this.freeBytesOf(this.config.dataDir), atMs: now };
      this.acceptedSinceMeasure = 0;
    }
    return this.measured.freeBytes;
  }
}

/**
 * Refuses chunk PUTs below the reserve, before the body is read. An interceptor, so it runs after
 * the cluster-auth guard: an unsigned caller learns nothing about the disk.
 */
@Injectable()
export class StorageReserveInterceptor implements NestInterceptor {
  constructor(private readonly reserve: StorageReserve) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() === 'http' && context.getHandler() === ChunksController.prototype.put) {
      const req = context.switchToHttp().getRequest<Request>();
      const length = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
      try {
        await this.reserve.admit(Number.isSafeInteger(length) ? length : null);
      } catch (error) {
        if (error instanceof StorageFullError) {
          const res = context.switchToHttp().getResponse<Response>();
          // The body is not read: the connection cannot carry another request. It closes
          // lingeringly, or the reset of what the caller is still sending would overtake the 507.
          closeLingeringOnceAnswered(req, res);
          // Expected while the disk is full, and the caller is told: one warn line, no stack.
          markRefusal(res, error.message);
        }
        throw error;
      }
    }
    return next.handle();
  }
}
