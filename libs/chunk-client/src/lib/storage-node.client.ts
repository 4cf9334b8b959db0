import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { ContentHasher, type ContentHash } from '@cairn/hashing';
import {
  CHUNK_MEDIA_TYPE,
  StorageErrorCodes,
  StorageHeaders,
  StoragePaths,
  type ChunkListingEntry,
  type ChunkListingReply,
  type PutChunkReply,
  type VerifyChunksReply,
} from '@cairn/protocol';
import { ClientHashMismatchError } from './chunk-client.errors';
import { DIRECT_READ_BUFFER_BYTES, DirectChunkReads, type PreparedRequest } from './direct-chunk-reads';
import { normaliseDispatchHeaders } from '@cairn/service-kit';
import { traceStorageRequests } from './request-tracing';

export const POOL_CONNECTIONS_PER_NODE = 16;
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 10_000;
export const BODY_TIMEOUT_MS = 30_000;

/**
 * Adds the caller's proof of identity to each request (storage nodes take only requests signed
 * with the cluster secret): the service's ClusterCredentials.httpInterceptor().
 */
export type RequestSigner = Dispatcher.DispatcherComposeInterceptor;

/** One keep-alive connection pool per storage node origin, shared by every client of a process. */
export class NodePools {
  private readonly pools = new Map<string, { readonly pool: Pool; readonly signed: Dispatcher; readonly interceptors: Dispatcher.DispatcherComposeInterceptor[] }>();
  private readonly direct = new Map<string, DirectChunkReads | null>();
  private directReadBuffer: Buffer | null = null;

  constructor(
    private readonly addressOf: (nodeId: string) => string,
    private readonly signer: RequestSigner,
    /** Extra trust for nodes served over HTTPS by a cluster CA (service-kit's internalTlsTrust). */
    private readonly tls?: { readonly ca: (string | Buffer)[] },
  ) {}

  for(nodeId: string): Dispatcher {
    return this.entryFor(nodeId).signed;
  }

  /** Whole chunk reads straight into a caller's buffer, for a node served over plain HTTP; null for one served over TLS. */
  directReads(nodeId: string): DirectChunkReads | null {
    const origin = this.addressOf(nodeId);
    if (!this.direct.has(origin)) {
      this.directReadBuffer ??= Buffer.allocUnsafeSlow(DIRECT_READ_BUFFER_BYTES);
      this.direct.set(origin, DirectChunkReads.forOrigin(origin, this.directReadBuffer, { headersMs: HEADERS_TIMEOUT_MS, bodyMs: BODY_TIMEOUT_MS, idleMs: KEEP_ALIVE_TIMEOUT_MS }));
    }
    return this.direct.get(origin) ?? null;
  }

  /**
   * The headers a GET of `path` leaves with once this pool's interceptors (the signer, tracing)
   * have seen it, and the handler they wrapped, to be told how the request went: for requests
   * sent on a connection of its own (DirectChunkReads) with the same signature and trace.
   */
  prepareGet(nodeId: string, path: string, headers: Record<string, string>): PreparedRequest {
    let prepared: PreparedRequest | null = null;
    const capture: Dispatcher['dispatch'] = (options, handler) => {
      prepared = { headers: normaliseDispatchHeaders(options.headers), handler };
      return true;
    };
    const dispatch = this.entryFor(nodeId).interceptors.reduce<Dispatcher['dispatch']>((inner, interceptor) => interceptor(inner), capture);
    dispatch({ path, method: 'GET', headers, origin: this.addressOf(nodeId) }, {});
    if (!prepared) throw new Error(`the interceptors of ${nodeId}'s pool did not pass the request on`);
    return prepared;
  }

  private entryFor(nodeId: string) {
    const origin = this.addressOf(nodeId);
    let entry = this.pools.get(origin);
    if (!entry) {
      const pool = new Pool(origin, {
        connections: POOL_CONNECTIONS_PER_NODE,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        headersTimeout: HEADERS_TIMEOUT_MS,
        bodyTimeout: BODY_TIMEOUT_MS,
        ...(this.tls ? { connect: { ca: this.tls.ca } } : {}),
      });
      // The tracing interceptor runs first (the last composed is the outermost), the signer after it.
      const interceptors = [this.signer, traceStorageRequests(nodeId, origin)];
      entry = { pool, signed: pool.compose(...interceptors), interceptors };
      this.pools.set(origin, entry);
    }
    return entry;
  }

  address(nodeId: string): string {
    return this.addressOf(nodeId);
  }

  async close(): Promise<void> {
    for (const reads of this.direct.values()) reads?.close();
    this.direct.clear();
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.close()));
    this.pools.clear();
  }
}

/** A listing entry of the data-plane contract, its hash known to be one. */
export type HeldChunkEntry = ChunkListingEntry & { readonly hash: ContentHash };

export interface HeldChunkPage {
  readonly entries: readonly HeldChunkEntry[];
  readonly nextAfter: ContentHash | null;
}

export type VerifyPage = VerifyChunksReply;

export type DeleteOutcome = 'deleted' | 'absent' | 'recently-touched';

/** A storage node answered something other than what the operation expects. */
export class StorageNodeRequestError extends Error {
  constructor(
    readonly nodeId: string,
    readonly statusCode: number,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`storage node ${nodeId}: HTTP ${statusCode}${code ? ` ${code}` : ''} ${detail}`.trim());
  }
}

/**
 * One storage node's data plane, node by node: what the maintenance jobs (repair, scrub,
 * rebalance, GC) need, where the replicated ChunkClient decides nothing per node by itself.
 */
export class StorageNodeClient {
  constructor(private readonly pools: NodePools) {}

  /** The chunk's size on that node, or null when it does not hold it. */
  async head(nodeId: string, hash: ContentHash): Promise<number | null> {
    const res = await this.pools.for(nodeId).request({ path: StoragePaths.chunk(hash), method: 'HEAD' });
    await res.body.dump();
    if (res.statusCode === 404) return null;
    if (res.statusCode !== 200) throw new StorageNodeRequestError(nodeId, res.statusCode, undefined, `HEAD ${hash}`);
    return Number(res.headers['content-length']);
  }

  async list(nodeId: string, query: { readonly after: string; readonly limit: number; readonly prefix?: string }): Promise<HeldChunkPage> {
    const path = StoragePaths.chunks({ prefix: query.prefix || undefined, after: query.after || undefined, limit: query.limit, detail: true });
    const res = await this.pools.for(nodeId).request({ path, method: 'GET' });
    const body = await jsonOrError<ChunkListingReply>(nodeId, res, [200]);
    return { entries: (body.entries ?? []) as HeldChunkEntry[], nextAfter: body.nextAfter as ContentHash | null };
  }

  /** The whole chunk, verified against its hash before it is handed over (chunks are bounded in size). */
  async readVerified(nodeId: string, hash: ContentHash, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.pools.for(nodeId).request({ path: StoragePaths.chunk(hash), method: 'GET', signal });
    if (res.statusCode !== 200) await jsonOrError(nodeId, res, [200]);
    const hasher = new ContentHasher();
    const pieces: Buffer[] = [];
    for await (const piece of res.body as AsyncIterable<Buffer>) {
      hasher.update(piece);
      pieces.push(piece);
    }
    const actual = hasher.digest();
    if (actual !== hash) throw new ClientHashMismatchError(hash, actual);
    return Buffer.concat(pieces);
  }

  /** Stores the bytes; the node re-hashes them and refuses a mismatch. True when it held them already. */
  async put(nodeId: string, hash: ContentHash, bytes: Uint8Array, signal?: AbortSignal): Promise<{ existed: boolean }> {
    const res = await this.pools.for(nodeId).request({
      path: StoragePaths.chunk(hash),
      method: 'PUT',
      headers: { 'content-type': CHUNK_MEDIA_TYPE, 'content-length': String(bytes.byteLength) },
      body: Readable.from([bytes]),
      signal,
    });
    const reply = await jsonOrError<PutChunkReply>(nodeId, res, [200, 201]);
    return { existed: reply.existed === true };
  }

  /**
   * Deletes under the fencing token of a lease on `fencingResource` (the node refuses a token older
   * than the newest it has seen for that resource); with `unlessTouchedSinceMs` the node keeps a
   * chunk written or re-written at or after that instant (a PUT racing a garbage collection wins).
   */
  async delete(
    nodeId: string,
    hash: ContentHash,
    options: { readonly fencingToken: number; readonly fencingResource: string; readonly unlessTouchedSinceMs?: number },
  ): Promise<DeleteOutcome> {
    const headers: Record<string, string> = { [StorageHeaders.FencingToken]: String(options.fencingToken), [StorageHeaders.FencingResource]: options.fencingResource };
    if (options.unlessTouchedSinceMs !== undefined) headers[StorageHeaders.UnlessTouchedSince] = String(Math.floor(options.unlessTouchedSinceMs));
    const res = await this.pools.for(nodeId).request({ path: StoragePaths.chunk(hash), method: 'DELETE', headers });
    if (res.statusCode === 204) {
      await res.body.dump();
      return 'deleted';
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return 'absent';
    }
    const error = await errorOf(nodeId, res);
    if (error.code === StorageErrorCodes.ChunkRecentlyWritten) return 'recently-touched';
    throw error;
  }

  /** Re-hashes the node's chunks after `after`, in hash order, on the node itself (a scrub step). */
  async verify(nodeId: string, query: { readonly after: string; readonly limit: number; readonly maxBytes: number }, signal?: AbortSignal): Promise<VerifyPage> {
    const path = StoragePaths.verify({ after: query.after || undefined, limit: query.limit, maxBytes: query.maxBytes });
    const res = await this.pools.for(nodeId).request({ path, method: 'POST', signal, headersTimeout: VERIFY_TIMEOUT_MS });
    return jsonOrError<VerifyPage>(nodeId, res, [200]);
  }
}

/** A verify step reads up to its byte budget from disk before it answers. */
export const VERIFY_TIMEOUT_MS = 120_000;

async function jsonOrError<T>(nodeId: string, res: Dispatcher.ResponseData, ok: readonly number[]): Promise<T> {
  if (ok.includes(res.statusCode)) return (await res.body.json()) as T;
  throw await errorOf(nodeId, res);
}

async function errorOf(nodeId: string, res: Dispatcher.ResponseData): Promise<StorageNodeRequestError> {
  let code: string | undefined;
  let detail = '';
  try {
    const text = await res.body.text();
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string };
      code = parsed.code;
      detail = parsed.message ?? text.slice(0, 200);
    } catch {
      detail = text.slice(0, 200);
    }
  } catch {
    // The status says enough.
  }
  return new StorageNodeRequestError(nodeId, res.statusCode, code, detail);
}
