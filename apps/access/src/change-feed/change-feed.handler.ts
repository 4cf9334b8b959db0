import type { Logger } from 'pino';
import { formatChangeCursor, type BucketView, type ChangeFeedPage, type ChangeFeedRecord } from '@cairn/protocol';
import { S3Error } from '../s3';
import type { S3Exchange } from '../s3-gateway/s3-exchange';
import type { ChangeFeedReader } from './change-feed.reader';
import { parseChangeFeedRequest, type ChangeFeedRequest } from './change-feed.request';

/** An SSE stream ends after this long; the client reconnects with Last-Event-ID (and is authorized again). */
export const CHANGE_FEED_SSE_MAX_MS = 15 * 60_000;
/** What an SSE client is told to wait before reconnecting. */
export const CHANGE_FEED_SSE_RETRY_MS = 2_000;
/** A feed request's socket may idle this much longer than it waits (the gateway's idle cut is shorter than the longest wait). */
const CHANGE_FEED_IDLE_MARGIN_MS = 30_000;

export interface ChangeFeedHandlerOptions {
  readonly reader: ChangeFeedReader;
  readonly logger: Logger;
  readonly nowMs?: () => number;
}

/** Checks again, for a long-lived stream, that the caller may still read the bucket; throws the S3 error if not. */
export type Reauthorize = () => Promise<BucketView>;

/**
 * `GET /_cairn/changes/<bucket>` on the S3 endpoint, after the gateway has authenticated the
 * caller and authorized it as s3:ListBucket on the bucket (docs/change-feed.md): a JSON page
 * (long poll), or Server-Sent Events with `Accept: text/event-stream`.
 */
export class ChangeFeedHandler {
  private readonly nowMs: () => number;
  /** Requests being served, ended by close(): an SSE stream would otherwise hold a shutdown for minutes. */
  private readonly open = new Set<AbortController>();
  private closing = false;

  constructor(private readonly options: ChangeFeedHandlerOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** The bucket the request names, checked (for authorization before anything is read). */
  parse(exchange: S3Exchange): ChangeFeedRequest {
    return parseChangeFeedRequest({
      method: exchange.method,
      path: exchange.target.path,
      query: (name) => exchange.query(name),
      header: (name) => exchange.header(name),
    });
  }

  /** Ends every long poll (it answers with what it has) and SSE stream (the client reconnects elsewhere). */
  close(): void {
    this.closing = true;
    for (const controller of this.open) controller.abort();
  }

  async serve(exchange: S3Exchange, request: ChangeFeedRequest, view: BucketView, reauthorize: Reauthorize): Promise<void> {
    if (this.closing) throw new S3Error('ServiceUnavailable', 'This gateway is shutting down; try again.');
    const after = await this.startOf(request);
    exchange.req.setTimeout(request.waitMs + CHANGE_FEED_IDLE_MARGIN_MS);
    if (request.sse) await this.stream(exchange, request, after, view, reauthorize);
    else await this.page(exchange, request, after, view);
  }

  private async startOf(request: ChangeFeedRequest): Promise<number> {
    const end = await this.options.reader.streamEnd();
    if ('now' in request.start) return end;
    if (request.start.after > end) throw new S3Error('InvalidArgument', 'The cursor is beyond the end of this feed.');
    return request.start.after;
  }

  private async page(exchange: S3Exchange, request: ChangeFeedRequest, after: number, view: BucketView): Promise<void> {
    const gone = this.abortOnClose(exchange);
    try {
      const read = await this.options.reader.read(request.bucket, after, request.limit, request.waitMs, gone.signal);
      const page: ChangeFeedPage = { bucket: request.bucket, records: visibleIn(view, read.records), nextCursor: formatChangeCursor(read.lastSequence) };
      const body = Buffer.from(JSON.stringify(page), 'utf8');
      exchange.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store' });
      exchange.res.end(body);
    } finally {
      gone.release();
    }
  }

  private async stream(exchange: S3Exchange, request: ChangeFeedRequest, after: number, first: BucketView, reauthorize: Reauthorize): Promise<void> {
    const res = exchange.res;
    const gone = this.abortOnClose(exchange);
    const endsAtMs = this.nowMs() + CHANGE_FEED_SSE_MAX_MS;
    exchange.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let cursor = after;
    let view = first;
    try {
      await write(res, `retry: ${CHANGE_FEED_SSE_RETRY_MS}\n: cairn change feed of ${request.bucket} after ${cursor}\n\n`);
      while (!gone.signal.aborted && this.nowMs() < endsAtMs) {
        const read = await this.options.reader.read(request.bucket, cursor, request.limit, Math.min(request.waitMs, endsAtMs - this.nowMs()), gone.signal);
        if (gone.signal.aborted) break;
        cursor = read.lastSequence;
        const records = visibleIn(view, read.records);
        if (records.length === 0) await write(res, ': heartbeat\n\n');
        for (const record of records) await write(res, `id: ${record.cursor}\nevent: ${record.type}\ndata: ${JSON.stringify(record)}\n\n`);
        // Access may have been taken away (policy, owner, bucket deleted) since the stream began.
        try {
          view = await reauthorize();
        } catch (error) {
          const code = error instanceof S3Error ? error.code : 'InternalError';
          await write(res, `event: error\ndata: ${JSON.stringify({ code })}\n\n`);
          break;
        }
      }
    } catch (error) {
      if (!gone.signal.aborted) this.options.logger.warn({ err: error, bucket: request.bucket, requestId: exchange.requestId }, 'change feed stream ended by an error');
    } finally {
      gone.release();
      if (!res.writableEnded && !res.destroyed) res.end();
    }
  }

  /** An abort signal that fires when the client goes away or the gateway closes; release() stops listening. */
  private abortOnClose(exchange: S3Exchange): { readonly signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    const onClose = () => controller.abort();
    exchange.res.once('close', onClose);
    this.open.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        exchange.res.off('close', onClose);
        this.open.delete(controller);
      },
    };
  }
}

/** Records of the bucket's current life (a bucket deleted and created again does not show its predecessor's). */
function visibleIn(view: BucketView, records: readonly ChangeFeedRecord[]): ChangeFeedRecord[] {
  return records.filter((r) => r.bucketCreatedAt === undefined || r.bucketCreatedAt === view.createdAt);
}

/** Writes, waiting for the socket to drain when it is full (a slow reader holds the stream, not memory). */
async function write(res: S3Exchange['res'], text: string): Promise<void> {
  if (res.destroyed) throw new Error('client went away');
  if (res.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', gone);
      resolve();
    };
    const gone = () => {
      res.off('drain', done);
      res.off('close', gone);
      reject(new Error('client went away'));
    };
    res.once('drain', done);
    res.once('close', gone);
  });
}
