import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { ContentHasher, contentHashOf, type ContentHash, type HashRing, type RingMember } from '@cairn/hashing';
import { ChunkTooLargeToBufferError, ChunkUnavailableError, ClientHashMismatchError, TooFewStorageNodesError, WriteQuorumNotReachedError, type ReplicaFailure } from './chunk-client.errors';
import { LatencyTracker } from './latency-tracker';
import { STANDARD_REPLICATION, type ReplicationStrategy } from './replication-strategy';
import type { UnderReplicationRecorder } from './under-replication-recorder.port';

export const POOL_CONNECTIONS_PER_NODE = 16;
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 10_000;
export const BODY_TIMEOUT_MS = 30_000;
/** A stream written without its hash is buffered (to hash it) up to this size. */
export const MAX_BUFFERED_WRITE_BYTES = 16 * 1024 * 1024;
/**
 * A read up to this size is received whole and verified before the caller sees a byte, so that
 * falling over to another replica is invisible. Longer reads stream, resuming on another replica
 * at the offset reached; their hash is checked at the end, before the last piece is released.
 */
export const READ_HOLDBACK_BYTES = 8 * 1024 * 1024;
/** Per replica, the bytes in flight between the source and a slow socket. */
export const WRITE_BRANCH_BUFFER_BYTES = 1024 * 1024;
const CHUNK_MEDIA_TYPE = 'application/octet-stream';

export interface ChunkClientOptions {
  /** The current ring; asked on every call, so a new epoch takes effect at once. */
  readonly ring: () => HashRing;
  /** Base URL of a node's data plane, e.g. http://10.0.0.5:9201. */
  readonly addressOf: (nodeId: string) => string;
  readonly underReplication: UnderReplicationRecorder;
  readonly strategy?: ReplicationStrategy;
  readonly latency?: LatencyTracker;
  readonly nowMs?: () => number;
  /** Told of each replica a read fell over from (a repair candidate). */
  readonly onReadFailover?: (event: ReadFailover) => void;
}

export interface ReplicaWriteOutcome {
  readonly nodeId: string;
  readonly ok: boolean;
  readonly existed?: boolean;
  readonly reason?: string;
}

export interface WriteChunkResult {
  readonly hash: ContentHash;
  readonly sizeBytes: number;
  readonly ringEpoch: number;
  readonly stored: readonly string[];
  readonly missed: readonly ReplicaFailure[];
}

export interface ReadFailover {
  readonly hash: ContentHash;
  readonly nodeId: string;
  readonly reason: string;
}

export interface ByteRangeRequest {
  /** Inclusive. */
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export interface ReadChunkResult {
  readonly hash: ContentHash;
  readonly stream: Readable;
  /** The node that started serving it (a streaming read may resume on another). */
  readonly servedBy: string;
  /** Replicas it fell over from, in order; a streaming read appends to it as it goes. */
  readonly fellOverFrom: ReadFailover[];
}

export type ChunkSource = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/**
 * The replicated chunk path (ARCHITECTURE.md §3): writes go to every replica the ring names, in
 * parallel, and succeed at the write quorum; reads go to the replica with the lowest recent
 * latency first and fall over on errors and corruption. Bodies stream; memory per call is
 * bounded by the constants above, whatever the chunk size.
 */
export class ChunkClient {
  private readonly pools = new Map<string, Pool>();
  private readonly strategy: ReplicationStrategy;
  readonly latency: LatencyTracker;
  private readonly nowMs: () => number;

  constructor(private readonly options: ChunkClientOptions) {
    this.strategy = options.strategy ?? STANDARD_REPLICATION;
    this.latency = options.latency ?? new LatencyTracker();
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  /**
   * Writes a chunk. Bytes are hashed here; a stream is buffered to hash it unless its hash is
   * given, in which case it streams straight to every replica and is verified as it passes.
   */
  async writeChunk(source: ChunkSource, known?: { hash: ContentHash; sizeBytes?: number }): Promise<WriteChunkResult> {
    if (source instanceof Uint8Array) return this.writeReplicas(contentHashOf(source), source.byteLength, () => source);
    if (!known) {
      const bytes = await bufferUpTo(source, MAX_BUFFERED_WRITE_BYTES);
      return this.writeReplicas(contentHashOf(bytes), bytes.byteLength, () => bytes);
    }
    return this.writeStreamed(source, known.hash, known.sizeBytes ?? null);
  }

  async readChunk(hash: ContentHash, range?: ByteRangeRequest): Promise<ReadChunkResult> {
    const ring = this.options.ring();
    const candidates = this.latency.order(this.strategy.readNodes(ring, hash));
    const fellOverFrom: ReadFailover[] = [];
    const failures: ReplicaFailure[] = [];
    const fail = (node: RingMember, reason: string) => {
      this.latency.observeFailure(node.nodeId);
      const event = { hash, nodeId: node.nodeId, reason };
      fellOverFrom.push(event);
      failures.push({ nodeId: node.nodeId, address: this.options.addressOf(node.nodeId), reason });
      this.options.onReadFailover?.(event);
    };

    for (let i = 0; i < candidates.length; i++) {
      const node = candidates[i];
      const startedMs = this.nowMs();
      let response: Dispatcher.ResponseData;
      try {
        response = await this.poolFor(node.nodeId).request({ path: `/chunks/${hash}`, method: 'GET', headers: rangeHeader(range) });
      } catch (error) {
        fail(node, describe(error));
        continue;
      }
      if (response.statusCode !== 200 && response.statusCode !== 206) {
        fail(node, await describeResponse(response));
        continue;
      }
      const lengthBytes = Number(response.headers['content-length']);
      if (Number.isFinite(lengthBytes) && lengthBytes <= READ_HOLDBACK_BYTES) {
        try {
          const pieces = await receiveVerified(response.body, lengthBytes, range ? null : hash);
          this.latency.observe(node.nodeId, this.nowMs() - startedMs);
          // One Buffer per read: a byte-mode stream read by an async iterator would concatenate them again.
          return { hash, stream: Readable.from(pieces), servedBy: node.nodeId, fellOverFrom };
        } catch (error) {
          fail(node, describe(error));
          continue;
        }
      }
      this.latency.observe(node.nodeId, this.nowMs() - startedMs);
      const rest = candidates.slice(i + 1);
      const stream = Readable.from(this.resumingBody(hash, range, node, response.body, rest, fail, failures), { objectMode: false });
      return { hash, stream, servedBy: node.nodeId, fellOverFrom };
    }
    throw new ChunkUnavailableError(hash, failures);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }

  /** Streams a long read; on a failure mid-body resumes from the next replica at the offset reached. */
  private async *resumingBody(
    hash: ContentHash,
    range: ByteRangeRequest | undefined,
    first: RingMember,
    firstBody: AsyncIterable<Buffer>,
    others: RingMember[],
    fail: (node: RingMember, reason: string) => void,
    failures: ReplicaFailure[],
  ): AsyncGenerator<Buffer> {
    const hasher = range ? null : new ContentHasher();
    let offset = range?.start ?? 0;
    let held: Buffer | null = null;
    let node = first;
    let body: AsyncIterable<Buffer> | null = firstBody;
    for (;;) {
      if (body) {
        try {
          for await (const piece of body) {
            hasher?.update(piece);
            offset += piece.length;
            if (held) yield held;
            held = piece;
          }
          break;
        } catch (error) {
          fail(node, describe(error));
        }
      }
      const next = others.shift();
      if (!next) throw new ChunkUnavailableError(hash, failures);
      node = next;
      body = null;
      try {
        const headers = { range: `bytes=${offset}-${range ? range.end - 1 : ''}` };
        const res = await this.poolFor(node.nodeId).request({ path: `/chunks/${hash}`, method: 'GET', headers });
        if (res.statusCode === 206) body = res.body;
        else fail(node, await describeResponse(res));
      } catch (error) {
        fail(node, describe(error));
      }
    }
    if (hasher) {
      const actual = hasher.digest();
      if (actual !== hash) throw new ClientHashMismatchError(hash, actual);
    }
    if (held) yield held;
  }

  private async writeStreamed(source: Readable | AsyncIterable<Uint8Array>, hash: ContentHash, sizeBytes: number | null): Promise<WriteChunkResult> {
    const branches: PassThrough[] = [];
    const hasher = new ContentHasher();
    const pump = async () => {
      try {
        for await (const piece of source as AsyncIterable<Uint8Array>) {
          hasher.update(piece);
          const live = branches.filter((b) => !b.destroyed);
          if (live.length === 0) return;
          const waits = live.filter((b) => !b.write(piece)).map((b) => Promise.race([once(b, 'drain'), once(b, 'close')]));
          await Promise.all(waits);
        }
        const actual = hasher.digest();
        if (actual !== hash) throw new ClientHashMismatchError(hash, actual);
        for (const b of branches) if (!b.destroyed) b.end();
      } catch (error) {
        for (const b of branches) b.destroy(error as Error);
        throw error;
      }
    };
    const result = this.writeReplicas(hash, sizeBytes, () => {
      const branch = new PassThrough({ highWaterMark: WRITE_BRANCH_BUFFER_BYTES });
      branches.push(branch);
      return branch;
    });
    const pumped = pump();
    const [outcome, pumpOutcome] = await Promise.allSettled([result, pumped]);
    if (pumpOutcome.status === 'rejected') throw pumpOutcome.reason;
    if (outcome.status === 'rejected') throw outcome.reason;
    return { ...outcome.value, sizeBytes: hasher.bytesHashed };
  }

  private async writeReplicas(hash: ContentHash, sizeBytes: number | null, bodyFor: () => Uint8Array | Readable): Promise<WriteChunkResult> {
    const ring = this.options.ring();
    if (ring.members.length < this.strategy.replicationFactor) throw new TooFewStorageNodesError(this.strategy.replicationFactor, ring.members.length);
    const replicas = this.strategy.writeSet(ring, hash);
    const outcomes = await Promise.all(replicas.map((node) => this.putOne(node, hash, sizeBytes, bodyFor())));
    const stored = outcomes.filter((o) => o.ok).map((o) => o.nodeId);
    const missed: ReplicaFailure[] = outcomes
      .filter((o) => !o.ok)
      .map((o) => ({ nodeId: o.nodeId, address: this.options.addressOf(o.nodeId), reason: o.reason ?? 'unknown' }));
    if (stored.length < this.strategy.writeQuorum) throw new WriteQuorumNotReachedError(hash, this.strategy.writeQuorum, stored, missed);
    const size = sizeBytes ?? -1;
    const detectedAtMs = Date.now();
    await Promise.all(
      missed.map((m) => this.options.underReplication.record({ hash, sizeBytes: size, nodeId: m.nodeId, reason: m.reason, ringEpoch: ring.epoch, detectedAtMs })),
    );
    return { hash, sizeBytes: size, ringEpoch: ring.epoch, stored, missed };
  }

  private async putOne(node: RingMember, hash: ContentHash, sizeBytes: number | null, body: Uint8Array | Readable): Promise<ReplicaWriteOutcome> {
    const startedMs = this.nowMs();
    const headers: Record<string, string> = { 'content-type': CHUNK_MEDIA_TYPE };
    if (sizeBytes !== null) headers['content-length'] = String(sizeBytes);
    try {
      const res = await this.poolFor(node.nodeId).request({ path: `/chunks/${hash}`, method: 'PUT', headers, body });
      if (res.statusCode === 200 || res.statusCode === 201) {
        const reply = (await res.body.json()) as { existed?: boolean };
        this.latency.observe(node.nodeId, this.nowMs() - startedMs);
        return { nodeId: node.nodeId, ok: true, existed: reply.existed === true };
      }
      return { nodeId: node.nodeId, ok: false, reason: await describeResponse(res) };
    } catch (error) {
      if (body instanceof Readable) body.destroy();
      this.latency.observeFailure(node.nodeId);
      return { nodeId: node.nodeId, ok: false, reason: describe(error) };
    }
  }

  private poolFor(nodeId: string): Pool {
    const origin = this.options.addressOf(nodeId);
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: POOL_CONNECTIONS_PER_NODE,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        headersTimeout: HEADERS_TIMEOUT_MS,
        bodyTimeout: BODY_TIMEOUT_MS,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

function rangeHeader(range: ByteRangeRequest | undefined): Record<string, string> {
  return range ? { range: `bytes=${range.start}-${range.end - 1}` } : {};
}

/**
 * Receives a whole held-back body as the pieces it arrived in, hashing each as it lands, so the
 * hash overlaps the transfer and the bytes are never concatenated into one more copy. It listens
 * for 'data' rather than iterating: the async iterator reads with read(), which concatenates
 * whatever is buffered into a fresh buffer on every step.
 */
function receiveVerified(body: Readable, lengthBytes: number, hash: ContentHash | null): Promise<Buffer[]> {
  const hasher = hash ? new ContentHasher() : null;
  const pieces: Buffer[] = [];
  let receivedBytes = 0;
  return new Promise<Buffer[]>((resolve, reject) => {
    const fail = (error: Error) => {
      body.off('data', onData);
      body.destroy();
      reject(error);
    };
    const onData = (piece: Buffer) => {
      receivedBytes += piece.length;
      if (receivedBytes > lengthBytes) return fail(new Error(`got more than the ${lengthBytes} bytes announced`));
      hasher?.update(piece);
      pieces.push(piece);
    };
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      if (receivedBytes !== lengthBytes) return reject(new Error(`got ${receivedBytes} of ${lengthBytes} bytes`));
      const actual = hasher?.digest();
      if (hash && actual !== hash) return reject(new ClientHashMismatchError(hash, actual as ContentHash));
      resolve(pieces);
    });
    body.once('close', () => {
      if (receivedBytes !== lengthBytes) reject(new Error(`the body closed after ${receivedBytes} of ${lengthBytes} bytes`));
    });
  });
}

async function bufferUpTo(source: Readable | AsyncIterable<Uint8Array>, limitBytes: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const piece of source as AsyncIterable<Uint8Array>) {
    total += piece.byteLength;
    if (total > limitBytes) {
      if (source instanceof Readable) source.destroy();
      throw new ChunkTooLargeToBufferError(limitBytes);
    }
    parts.push(piece);
  }
  return Buffer.concat(parts, total);
}

async function describeResponse(res: { statusCode: number; body: { text(): Promise<string> } }): Promise<string> {
  let detail = '';
  try {
    const text = await res.body.text();
    const parsed = JSON.parse(text) as { code?: string; message?: string };
    detail = parsed.code ? `${parsed.code}: ${parsed.message ?? ''}` : text.slice(0, 200);
  } catch {
    // A body that is not our JSON error shape: the status says enough.
  }
  return `HTTP ${res.statusCode}${detail ? ` ${detail}` : ''}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    const cause = (error as { cause?: unknown }).cause;
    const causeCode = cause instanceof Error ? (cause as { code?: string }).code : undefined;
    return [code, causeCode, error.message].filter(Boolean).join(' ');
  }
  return String(error);
}
