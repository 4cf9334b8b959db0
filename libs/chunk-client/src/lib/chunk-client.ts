import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { CHUNK_MEDIA_TYPE, StorageHeaders, StoragePaths, type PutChunkReply } from '@cairn/protocol';
import { ContentHasher, contentHashOf, type ContentHash, type HashRing, type RingMember } from '@cairn/hashing';
import { ChunkTooLargeToBufferError, describeError, ChunkUnavailableError, ClientHashMismatchError, TooFewStorageNodesError, WriteQuorumNotReachedError, type ReplicaFailure } from './chunk-client.errors';
import { LatencyTracker } from './latency-tracker';
import { ALL_NODES_UP, type NodeHealth } from './node-health';
import type { ReplicationStrategy } from './replication-strategy';
import { NodePools, type RequestSigner } from './storage-node.client';
import type { UnderReplicationRecorder } from './under-replication-recorder.port';

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
/**
 * Once the write quorum has answered, the other replicas get this long again (at least the
 * floor, at most the cap) before they are cut off and recorded as missed for the repair job: a
 * dead or hung node must not add its timeout to every write.
 */
export const STRAGGLER_GRACE_FACTOR = 2;
export const STRAGGLER_GRACE_FLOOR_MS = 50;
export const STRAGGLER_GRACE_CAP_MS = 1_000;
/** Why a replica a write skipped is recorded as missed. */
export const NODE_DOWN_REASON = 'node down (monitoring): not sent';

export interface ChunkClientOptions {
  /** The current ring; asked on every call, so a new epoch takes effect at once. */
  readonly ring: () => HashRing;
  /** Base URL of a node's data plane, e.g. http://10.0.0.5:9201. */
  readonly addressOf: (nodeId: string) => string;
  readonly underReplication: UnderReplicationRecorder;
  /** Copies and write quorum: the region's (regionReplication(CAIRN_REPLICATION_FACTOR).standard for STANDARD chunks). */
  readonly strategy: ReplicationStrategy;
  readonly latency?: LatencyTracker;
  readonly nowMs?: () => number;
  /** Told of each replica a read fell over from (a repair candidate). */
  readonly onReadFailover?: (event: ReadFailover) => void;
  /**
   * Nodes to try after the ring's replicas, in order (the previous epoch's replicas and draining
   * nodes while a rebalance moves chunks away from them, then any other member).
   */
  readonly fallbackReadNodes?: (hash: ContentHash) => readonly string[];
  /**
   * Asked once when a read missed on every candidate: true when the ring has moved on since (a
   * rebalance may have moved the chunk to a node this ring does not name); the read then tries the
   * new candidates it has not tried yet (StorageRingProvider.ringMoved).
   */
  readonly ringMoved?: () => Promise<boolean>;
  /** Signs each request to a storage node; required unless `pools` (which sign) are given. */
  readonly signer?: RequestSigner;
  /** Extra CAs for nodes served over HTTPS (service-kit's internalTlsTrust). */
  readonly tls?: { readonly ca: (string | Buffer)[] };
  /**
   * Which nodes monitoring has declared down: writes skip them (when the others make the quorum;
   * the skipped replica is recorded for repair), reads try them last. Every node is taken as up
   * when absent.
   */
  readonly health?: NodeHealth;
  /** Shared connection pools; one is made for this client when absent. */
  readonly pools?: NodePools;
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
 * The replicated chunk path (docs/architecture.md §3): writes go to every replica the ring names, in
 * parallel, and succeed at the write quorum; reads go first to the replica with the fewest of this
 * client's reads in flight, not slow and not failing (LatencyTracker.readOrder), and fall over on
 * errors and corruption. Bodies stream; memory per call is bounded by the constants above,
 * whatever the chunk size.
 */
export class ChunkClient {
  private readonly pools: NodePools;
  private readonly strategy: ReplicationStrategy;
  readonly latency: LatencyTracker;
  private readonly nowMs: () => number;
  private readonly health: NodeHealth;
  /** Per node, this client's reads sent and not yet answered (a streamed read counts until its response's head). */
  private readonly readsInFlight = new Map<string, number>();

  constructor(private readonly options: ChunkClientOptions) {
    this.strategy = options.strategy;
    this.latency = options.latency ?? new LatencyTracker();
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.health = options.health ?? ALL_NODES_UP;
    if (!options.pools && !options.signer) throw new Error('a ChunkClient needs a request signer or signing pools');
    this.pools = options.pools ?? new NodePools(options.addressOf, options.signer!, options.tls);
  }

  /**
   * Writes a chunk. Bytes are hashed here unless their hash is given (a wrong one fails the write:
   * every replica refuses a body that does not hash to the name it is sent under); a stream is
   * buffered to hash it unless its hash is given, in which case it streams straight to every
   * replica and is verified as it passes.
   */
  async writeChunk(source: ChunkSource, known?: { hash: ContentHash; sizeBytes?: number }): Promise<WriteChunkResult> {
    if (source instanceof Uint8Array) return this.writeReplicas(known?.hash ?? contentHashOf(source), source.byteLength, () => source);
    if (!known) {
      const bytes = await bufferUpTo(source, MAX_BUFFERED_WRITE_BYTES);
      return this.writeReplicas(contentHashOf(bytes), bytes.byteLength, () => bytes);
    }
    return this.writeStreamed(source, known.hash, known.sizeBytes ?? null);
  }

  /**
   * `into`: a buffer a held-back read is received into when it fits (no buffer per socket read is
   * kept, none is allocated for the chunk); the result's stream then yields a view of it, and the
   * caller must not reuse it before it is done with those bytes. A whole chunk read with `into`
   * from a node served over plain HTTP goes on a connection of its own (DirectChunkReads): the
   * socket's reads land in one reused buffer and are hashed and copied into `into` from there. A
   * replica that announces more bytes than `into` holds is then failed over from, so `into` must
   * hold at least the chunk's size.
   */
  async readChunk(hash: ContentHash, range?: ByteRangeRequest, into?: Buffer): Promise<ReadChunkResult> {
    let candidates = this.readCandidates(hash);
    const tried = new Set<string>();
    const fellOverFrom: ReadFailover[] = [];
    const failures: ReplicaFailure[] = [];
    const fail = (node: RingMember, reason: string) => {
      this.latency.observeFailure(node.nodeId);
      const event = { hash, nodeId: node.nodeId, reason };
      fellOverFrom.push(event);
      failures.push({ nodeId: node.nodeId, address: this.pools.address(node.nodeId), reason });
      this.options.onReadFailover?.(event);
    };

    for (let round = 0; ; round++) {
      for (let i = 0; i < candidates.length; i++) {
        const node = candidates[i];
        tried.add(node.nodeId);
        const startedMs = this.nowMs();
        const direct = !range && into ? this.pools.directReads(node.nodeId) : null;
        if (direct && into) {
          const done = this.startRead(node.nodeId);
          try {
            const path = StoragePaths.chunk(hash);
            const outcome = await direct.read(path, this.pools.prepareGet(node.nodeId, path, readHeaders(undefined)), hash, into);
            done();
            if (outcome.kind === 'refused') {
              fail(node, outcome.reason);
              continue;
            }
            this.latency.observe(node.nodeId, this.nowMs() - startedMs);
            return { hash, stream: Readable.from([outcome.bytes]), servedBy: node.nodeId, fellOverFrom };
          } catch (error) {
            done();
            if (error instanceof ClientHashMismatchError) await this.confirmCorrupt(node, hash);
            fail(node, describeError(error));
            continue;
          }
        }
        let response: Dispatcher.ResponseData;
        const done = this.startRead(node.nodeId);
        try {
          response = await this.poolFor(node.nodeId).request({ path: StoragePaths.chunk(hash), method: 'GET', headers: readHeaders(range) });
        } catch (error) {
          done();
          fail(node, describeError(error));
          continue;
        }
        if (response.statusCode !== 200 && response.statusCode !== 206) {
          done();
          fail(node, await describeResponse(response));
          continue;
        }
        const lengthBytes = Number(response.headers['content-length']);
        if (Number.isFinite(lengthBytes) && lengthBytes <= READ_HOLDBACK_BYTES) {
          try {
            const pieces = await receiveVerified(response.body, lengthBytes, range ? null : hash, into && lengthBytes <= into.length ? into.subarray(0, lengthBytes) : null);
            done();
            this.latency.observe(node.nodeId, this.nowMs() - startedMs);
            // One Buffer per read: a byte-mode stream read by an async iterator would concatenate them again.
            return { hash, stream: Readable.from(pieces), servedBy: node.nodeId, fellOverFrom };
          } catch (error) {
            done();
            if (error instanceof ClientHashMismatchError) await this.confirmCorrupt(node, hash);
            fail(node, describeError(error));
            continue;
          }
        }
        done();
        this.latency.observe(node.nodeId, this.nowMs() - startedMs);
        const rest = candidates.slice(i + 1);
        const stream = Readable.from(this.resumingBody(hash, range, node, response.body, rest, fail, failures), { objectMode: false });
        return { hash, stream, servedBy: node.nodeId, fellOverFrom };
      }
      // Every candidate missed: the ring may have moved on since this process last polled it.
      if (round > 0 || !this.options.ringMoved || !(await this.options.ringMoved().catch(() => false))) break;
      candidates = this.readCandidates(hash).filter((m) => !tried.has(m.nodeId));
    }
    throw new ChunkUnavailableError(hash, failures);
  }

  async close(): Promise<void> {
    await this.pools.close();
  }

  /** Counts a read to `nodeId` as in flight until the function it answers is called (once). */
  private startRead(nodeId: string): () => void {
    this.readsInFlight.set(nodeId, (this.readsInFlight.get(nodeId) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.readsInFlight.get(nodeId) ?? 1) - 1;
      if (left > 0) this.readsInFlight.set(nodeId, left);
      else this.readsInFlight.delete(nodeId);
    };
  }

  /** This client's reads to `nodeId` sent and not yet answered. */
  readsInFlightTo(nodeId: string): number {
    return this.readsInFlight.get(nodeId) ?? 0;
  }

  /** The ring's replicas in read order (LatencyTracker.readOrder), then any fallbacks the ring no longer names; nodes declared down after all of them. */
  private readCandidates(hash: ContentHash): RingMember[] {
    const candidates = this.readCandidatesInOrder(hash);
    const down = candidates.filter((m) => this.health.isDown(m.nodeId));
    if (down.length === 0) return candidates;
    return [...candidates.filter((m) => !this.health.isDown(m.nodeId)), ...down];
  }

  private readCandidatesInOrder(hash: ContentHash): RingMember[] {
    const ringReplicas = this.strategy.readNodes(this.options.ring(), hash);
    const inFlight = (nodeId: string) => this.readsInFlightTo(nodeId);
    // Ordered apart, so that a node declared down sets no pace for the others (what is slow is judged among those up).
    const up = ringReplicas.filter((m) => !this.health.isDown(m.nodeId));
    const replicas = up.length === ringReplicas.length ? this.latency.readOrder(ringReplicas, inFlight) : [...this.latency.readOrder(up, inFlight), ...this.latency.readOrder(ringReplicas.filter((m) => this.health.isDown(m.nodeId)), inFlight)];
    const fallbacks = this.options.fallbackReadNodes?.(hash) ?? [];
    if (fallbacks.length === 0) return replicas;
    const tried = new Set(replicas.map((m) => m.nodeId));
    const extra: RingMember[] = [];
    for (const nodeId of fallbacks) {
      if (tried.has(nodeId)) continue;
      tried.add(nodeId);
      extra.push({ nodeId, zone: '', host: '', weight: 1 });
    }
    return [...replicas, ...extra];
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
          fail(node, describeError(error));
        }
      }
      const next = others.shift();
      if (!next) throw new ChunkUnavailableError(hash, failures);
      node = next;
      body = null;
      try {
        const headers = { range: `bytes=${offset}-${range ? range.end - 1 : ''}` };
        const res = await this.poolFor(node.nodeId).request({ path: StoragePaths.chunk(hash), method: 'GET', headers });
        if (res.statusCode === 206) body = res.body;
        else fail(node, await describeResponse(res));
      } catch (error) {
        fail(node, describeError(error));
      }
    }
    if (hasher) {
      const actual = hasher.digest();
      if (actual !== hash) {
        await this.confirmCorrupt(node, hash);
        throw new ClientHashMismatchError(hash, actual);
      }
    }
    if (held) yield held;
  }

  /**
   * A whole read is sent unhashed by the node (this client verifies it); when it does not match,
   * the node is asked once more without that, so that its own check moves the bad chunk aside and
   * reports it, as it would have on the first read. The bytes of that read are dropped.
   */
  private async confirmCorrupt(node: RingMember, hash: ContentHash): Promise<void> {
    try {
      const res = await this.poolFor(node.nodeId).request({ path: StoragePaths.chunk(hash), method: 'GET' });
      await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
    } catch {
      // The node cut the response short (its check failed) or is gone: either way it was asked.
    }
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
    // A node declared down is not sent to (no timeout to wait out); with too few others for the quorum, monitoring may be wrong: try them all.
    const up = replicas.filter((node) => !this.health.isDown(node.nodeId));
    const targets = up.length >= this.strategy.writeQuorum ? up : replicas;
    const skipped: ReplicaWriteOutcome[] = replicas.filter((node) => !targets.includes(node)).map((node) => ({ nodeId: node.nodeId, ok: false, reason: NODE_DOWN_REASON }));
    const sent = await this.untilQuorumAndGrace(targets.map((node) => (signal: AbortSignal) => this.putOne(node, hash, sizeBytes, bodyFor(), signal)));
    const outcomes = [...sent, ...skipped];
    const stored = outcomes.filter((o) => o.ok).map((o) => o.nodeId);
    const missed: ReplicaFailure[] = outcomes
      .filter((o) => !o.ok)
      .map((o) => ({ nodeId: o.nodeId, address: this.pools.address(o.nodeId), reason: o.reason ?? 'unknown' }));
    if (stored.length < this.strategy.writeQuorum) throw new WriteQuorumNotReachedError(hash, this.strategy.writeQuorum, stored, missed);
    const size = sizeBytes ?? -1;
    const detectedAtMs = Date.now();
    await Promise.all(
      missed.map((m) => this.options.underReplication.record({ hash, sizeBytes: size, nodeId: m.nodeId, reason: m.reason, ringEpoch: ring.epoch, detectedAtMs })),
    );
    return { hash, sizeBytes: size, ringEpoch: ring.epoch, stored, missed };
  }

  /**
   * Runs the replica writes together. Once the quorum has succeeded, the rest get a grace of
   * STRAGGLER_GRACE_FACTOR times the quorum's time (within its floor and cap) and are then
   * aborted: their body (often a buffer the caller reuses next) is released, and they count as
   * missed, to be completed by the repair job.
   */
  private async untilQuorumAndGrace(writes: readonly ((signal: AbortSignal) => Promise<ReplicaWriteOutcome>)[]): Promise<ReplicaWriteOutcome[]> {
    const startedMs = this.nowMs();
    const controllers = writes.map(() => new AbortController());
    const outcomes: (ReplicaWriteOutcome | undefined)[] = writes.map(() => undefined);
    let succeeded = 0;
    let settled = 0;
    let onQuorum: () => void = () => undefined;
    const quorumReached = new Promise<void>((resolve) => (onQuorum = resolve));
    const all = Promise.all(
      writes.map(async (write, i) => {
        outcomes[i] = await write(controllers[i].signal);
        settled++;
        if (outcomes[i]!.ok && ++succeeded === this.strategy.writeQuorum && settled < writes.length) onQuorum();
      }),
    );
    await Promise.race([all, quorumReached]);
    if (settled < writes.length) {
      const graceMs = Math.min(STRAGGLER_GRACE_CAP_MS, Math.max(STRAGGLER_GRACE_FLOOR_MS, STRAGGLER_GRACE_FACTOR * (this.nowMs() - startedMs)));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([all, graceOver]);
      clearTimeout(timer);
      controllers.forEach((c, i) => {
        if (!outcomes[i]) c.abort(new Error(`still writing ${graceMs} ms after the write quorum answered`));
      });
      await all;
    }
    return outcomes as ReplicaWriteOutcome[];
  }

  private async putOne(node: RingMember, hash: ContentHash, sizeBytes: number | null, body: Uint8Array | Readable, signal: AbortSignal): Promise<ReplicaWriteOutcome> {
    const startedMs = this.nowMs();
    const headers: Record<string, string> = { 'content-type': CHUNK_MEDIA_TYPE };
    if (sizeBytes !== null) headers['content-length'] = String(sizeBytes);
    // Bytes given whole would be hashed again by the request signer, once per replica; as a stream
    // the body goes UNSIGNED-PAYLOAD, which is as strong here: the signed path names the chunk's
    // SHA-256 and the node refuses a body that does not hash to it.
    const sent = body instanceof Uint8Array ? Readable.from([body]) : body;
    try {
      const res = await this.poolFor(node.nodeId).request({ path: StoragePaths.chunk(hash), method: 'PUT', headers, body: sent, signal });
      if (res.statusCode === 200 || res.statusCode === 201) {
        const reply = (await res.body.json()) as PutChunkReply;
        this.latency.observe(node.nodeId, this.nowMs() - startedMs);
        return { nodeId: node.nodeId, ok: true, existed: reply.existed === true };
      }
      return { nodeId: node.nodeId, ok: false, reason: await describeResponse(res) };
    } catch (error) {
      sent.destroy();
      this.latency.observeFailure(node.nodeId);
      return { nodeId: node.nodeId, ok: false, reason: signal.aborted ? describeError(signal.reason) : describeError(error) };
    }
  }

  private poolFor(nodeId: string) {
    return this.pools.for(nodeId);
  }
}

/** A whole chunk is hashed by this client, so the node need not hash it too; a range it checks itself. */
function readHeaders(range: ByteRangeRequest | undefined): Record<string, string> {
  return range ? { range: `bytes=${range.start}-${range.end - 1}` } : { [StorageHeaders.ReaderVerifies]: 'true' };
}

/**
 * Receives a whole held-back body as the pieces it arrived in, hashing each as it lands, so the
 * hash overlaps the transfer and the bytes are never concatenated into one more copy. It listens
 * for 'data' rather than iterating: the async iterator reads with read(), which concatenates
 * whatever is buffered into a fresh buffer on every step.
 *
 * With a `target` of the body's length the pieces are copied into it as they land and dropped: kept
 * until the chunk has been passed on, they outlive young-generation collections and are freed only
 * by full ones, which their steady flow keeps triggering (a reused target allocates nothing).
 */
function receiveVerified(body: Readable, lengthBytes: number, hash: ContentHash | null, target: Buffer | null): Promise<Buffer[]> {
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
      if (target) piece.copy(target, receivedBytes - piece.length);
      else pieces.push(piece);
    };
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      if (receivedBytes !== lengthBytes) return reject(new Error(`got ${receivedBytes} of ${lengthBytes} bytes`));
      const actual = hasher?.digest();
      if (hash && actual !== hash) return reject(new ClientHashMismatchError(hash, actual as ContentHash));
      resolve(target ? [target] : pieces);
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
