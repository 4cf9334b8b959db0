import { Readable } from 'node:stream';
import { contentHashOf, parseContentHash, type ContentHash, type HashRing, type RingMember } from '@cairn/hashing';
import { chooseErasureCode, dataShardSlices, ReedSolomon, shardSizeFor, splitIntoDataShards, TooFewShardsError } from '@cairn/erasure';
import { CHUNK_MEDIA_TYPE, isErasureCodedChunk, isErasureCodedClass, isInlineChunk, StoragePaths, type ChunkRef, type ErasureLayout, type StorageClass } from '@cairn/protocol';
import { ChunkClient, type ChunkClientOptions, type ReadFailover } from './chunk-client';
import { ChunkUnavailableError, ClientHashMismatchError, describeError, TooFewStorageNodesError, WriteQuorumNotReachedError, type ReplicaFailure } from './chunk-client.errors';
import { ALL_NODES_UP, type NodeHealth } from './node-health';
import type { RegionReplication } from './replication-strategy';
import { shardProblem, type ShardSource } from './shard-check';
import type { NodePools } from './storage-node.client';

/** The erasure code wanted where the ring has enough nodes (CAIRN_EC_DATA_SHARDS / CAIRN_EC_PARITY_SHARDS). */
export const DEFAULT_ERASURE_CODE = { dataShards: 4, parityShards: 2 } as const;

/** A chunk as a class stored it: its name and, when erasure-coded, its stripe. */
export interface StoredClassChunk {
  readonly hash: string;
  readonly sizeBytes: number;
  readonly erasure?: ErasureLayout;
}

export interface StorageClassChunksOptions {
  /** The replicated client's options; its pools are shared by every class. */
  readonly client: Omit<ChunkClientOptions, 'strategy' | 'pools' | 'signer' | 'tls'> & { readonly pools: NodePools };
  /** The region's replicated classes (regionReplication of CAIRN_REPLICATION_FACTOR): STANDARD's and REDUCED_REDUNDANCY's copies and quorums. */
  readonly replication: RegionReplication;
  /** The code erasure-coded classes use when the ring has k+m nodes; fewer nodes get a narrower one (chooseErasureCode). */
  readonly erasureCode?: { readonly dataShards: number; readonly parityShards: number };
  /** Told of each shard a read could not use as it was (a repair candidate, rebuilt by the sweep). */
  readonly onShardFailover?: (event: ReadFailover & { readonly stripe: string }) => void;
}

/**
 * Chunks stored by storage class (docs/storage-classes.md): STANDARD and REDUCED_REDUNDANCY as whole
 * replicas (the region's replication factor and min(2, it); ChunkClient), STANDARD_IA and GLACIER_IR as Reed-Solomon stripes: the
 * chunk's bytes split into k data shards plus m parity shards, shard i a content-addressed chunk of
 * its own on the i-th of the ring's k+m distinct nodes for the chunk's hash. Reads of a stripe
 * fetch only the data shards a range touches, and fall back to decoding from any k intact shards.
 * Memory per call is one chunk (and its parity) at most.
 */
export class StorageClassChunks {
  private readonly replicated: ChunkClient;
  private readonly reduced: ChunkClient;
  private readonly pools: NodePools;
  private readonly health: NodeHealth;
  private readonly erasureCode: { readonly dataShards: number; readonly parityShards: number };
  private readonly codes = new Map<string, ReedSolomon>();

  constructor(private readonly options: StorageClassChunksOptions) {
    this.pools = options.client.pools;
    this.health = options.client.health ?? ALL_NODES_UP;
    this.erasureCode = options.erasureCode ?? DEFAULT_ERASURE_CODE;
    this.replicated = new ChunkClient({ ...options.client, strategy: options.replication.standard });
    this.reduced = new ChunkClient({ ...options.client, strategy: options.replication.reducedRedundancy, latency: this.replicated.latency });
  }

  /** The replicated client (STANDARD): what reads of whole chunks go through. */
  get client(): ChunkClient {
    return this.replicated;
  }

  /** The code a stripe written now gets, or null when the ring is too small to erasure-code (it is then replicated). */
  codeForRing(ring: HashRing): { readonly dataShards: number; readonly parityShards: number } | null {
    return chooseErasureCode(ring.members.length, this.erasureCode);
  }

  /** Stores one chunk in the class's layout. `hash`: the bytes' hash when the caller has it (as ChunkClient.writeChunk's). */
  async write(bytes: Uint8Array, storageClass: StorageClass | string, hash?: ContentHash): Promise<StoredClassChunk> {
    if (isErasureCodedClass(storageClass)) {
      const code = this.codeForRing(this.options.client.ring());
      if (code) return this.writeStripe(bytes, code.dataShards, code.parityShards);
    }
    const client = storageClass === 'REDUCED_REDUNDANCY' ? this.reduced : this.replicated;
    const result = await client.writeChunk(bytes, hash === undefined ? undefined : { hash });
    return { hash: result.hash, sizeBytes: bytes.byteLength };
  }

  /**
   * Streams a chunk, or `[start, end)` of it, whatever its layout. `shardsElsewhere`: where a
   * stripe's shard no storage node holds intact is looked for next (a backup target, for a read of
   * the past); what it gives is checked against the shard's hash like a node's answer. `into`: a
   * buffer a replicated chunk may be received into (ChunkClient.readChunk).
   */
  async read(chunk: ChunkRef, range?: { readonly start: number; readonly end: number }, shardsElsewhere?: ShardSource, into?: Buffer): Promise<Readable> {
    if (isInlineChunk(chunk)) throw new Error(`chunk ${chunk.hash} is inline: its bytes are in its reference`);
    if (!isErasureCodedChunk(chunk)) return (await this.replicated.readChunk(parseContentHash(chunk.hash), range, into)).stream;
    const start = range?.start ?? 0;
    const end = range?.end ?? chunk.sizeBytes;
    return Readable.from(this.readStripe(chunk, start, end, shardsElsewhere), { objectMode: false });
  }

  /** A whole chunk's bytes, verified against its hash (shards missing from the nodes looked for in `shardsElsewhere`, as `read`). */
  async readWhole(chunk: ChunkRef, shardsElsewhere?: ShardSource): Promise<Buffer> {
    if (isInlineChunk(chunk)) return Buffer.from(chunk.inline, 'base64');
    const pieces: Buffer[] = [];
    for await (const piece of await this.read(chunk, undefined, shardsElsewhere)) pieces.push(piece as Buffer);
    const bytes = Buffer.concat(pieces);
    const actual = contentHashOf(bytes);
    if (actual !== chunk.hash) throw new ClientHashMismatchError(chunk.hash as ContentHash, actual);
    return bytes;
  }

  /**
   * A version's chunks re-stored in another class: same bytes, offsets and names; each chunk read
   * whole (verified) and written in the new layout, one at a time. Inline chunks stay as they are.
   * Deterministic: rewriting the same chunks into the same class on the same ring gives the same
   * references, so a retried transition changes nothing. Fields other layers added to a reference
   * (an encryption IV) are kept.
   */
  async rewrite(chunks: readonly ChunkRef[], storageClass: StorageClass, signal?: AbortSignal): Promise<ChunkRef[]> {
    const out: ChunkRef[] = [];
    for (const chunk of chunks) {
      signal?.throwIfAborted();
      if (isInlineChunk(chunk)) {
        out.push(chunk);
        continue;
      }
      const bytes = await this.readWhole(chunk);
      const stored = await this.write(bytes, storageClass);
      const { erasure: _old, ...rest } = chunk;
      out.push({ ...rest, hash: stored.hash, ...(stored.erasure ? { erasure: stored.erasure } : {}) });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.replicated.close();
  }

  /** The nodes a stripe's shards go to, shard i on the i-th: the ring's distinct replicas for the chunk's hash. */
  placementOf(ring: HashRing, chunkHash: string, width: number): readonly RingMember[] {
    return ring.replicasFor(parseContentHash(chunkHash), Math.min(width, ring.members.length));
  }

  private code(dataShards: number, parityShards: number): ReedSolomon {
    const key = `${dataShards}+${parityShards}`;
    let code = this.codes.get(key);
    if (!code) this.codes.set(key, (code = new ReedSolomon(dataShards, parityShards)));
    return code;
  }

  /**
   * Writes the k+m shards, each to its own node, in parallel. The write holds at k+1 shards stored
   * (one more than the minimum to read it back); the rest are left for the sweep to rebuild.
   */
  private async writeStripe(bytes: Uint8Array, dataShards: number, parityShards: number): Promise<StoredClassChunk> {
    const ring = this.options.client.ring();
    const width = dataShards + parityShards;
    if (ring.members.length < width) throw new TooFewStorageNodesError(width, ring.members.length);
    const hash = contentHashOf(bytes);
    const data = splitIntoDataShards(bytes, dataShards);
    const shards = [...data, ...this.code(dataShards, parityShards).encode(data)];
    const shardHashes = shards.map((s) => contentHashOf(s));
    const nodes = this.placementOf(ring, hash, width);
    const outcomes = await Promise.all(
      shards.map(async (shard, i) => {
        const node = nodes[i];
        if (this.health.isDown(node.nodeId)) return { nodeId: node.nodeId, ok: false, reason: 'node down (monitoring): not sent' };
        try {
          await this.putShard(node.nodeId, shardHashes[i], shard);
          return { nodeId: node.nodeId, ok: true, reason: '' };
        } catch (error) {
          return { nodeId: node.nodeId, ok: false, reason: describeError(error) };
        }
      }),
    );
    const stored = outcomes.filter((o) => o.ok).map((o) => o.nodeId);
    const quorum = Math.min(width, dataShards + 1);
    if (stored.length < quorum) {
      const failures: ReplicaFailure[] = outcomes.filter((o) => !o.ok).map((o) => ({ nodeId: o.nodeId, address: this.pools.address(o.nodeId), reason: o.reason }));
      throw new WriteQuorumNotReachedError(hash, quorum, stored, failures);
    }
    return { hash, sizeBytes: bytes.byteLength, erasure: { dataShards, parityShards, shardSizeBytes: shardSizeFor(bytes.byteLength, dataShards), shards: shardHashes } };
  }

  private async putShard(nodeId: string, hash: string, bytes: Uint8Array): Promise<void> {
    const res = await this.pools.for(nodeId).request({
      path: StoragePaths.chunk(hash),
      method: 'PUT',
      headers: { 'content-type': CHUNK_MEDIA_TYPE, 'content-length': String(bytes.byteLength) },
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    });
    if (res.statusCode === 200 || res.statusCode === 201) {
      await res.body.dump();
      return;
    }
    throw new Error(`HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 200)}`);
  }

  /**
   * The bytes `[start, end)` of a stripe: the data shards it touches, each piece fetched from the
   * shard's node (a whole shard is checked against its hash). If any of them cannot be had intact,
   * the stripe is decoded from any k intact shards instead.
   */
  private async *readStripe(chunk: ChunkRef & { readonly erasure: ErasureLayout }, start: number, end: number, elsewhere?: ShardSource): AsyncGenerator<Buffer> {
    const slices = dataShardSlices(start, end, chunk.erasure.shardSizeBytes);
    const ring = this.options.client.ring();
    for (let next = 0; next < slices.length; next++) {
      const { shard, from, to } = slices[next];
      // Data shards are the chunk itself: what is fetched goes out as it is.
      const piece = await this.fetchShard(ring, chunk, shard, from, to, elsewhere).catch(() => null);
      if (piece) {
        yield piece;
        continue;
      }
      // This shard cannot be had intact: decode the stripe and serve the rest of the range from it.
      const data = await this.decodeData(ring, chunk, elsewhere);
      for (const rest of slices.slice(next)) {
        const bytes = data[rest.shard];
        yield Buffer.from(bytes.buffer, bytes.byteOffset + rest.from, rest.to - rest.from);
      }
      return;
    }
  }

  /**
   * `[from, to)` of shard `index`, from the node the placement names first, then from any other ring
   * member (a node the ring moved it from), then from `elsewhere` (whole, sliced here). A whole
   * shard is verified against its hash.
   */
  private async fetchShard(ring: HashRing, chunk: ChunkRef & { readonly erasure: ErasureLayout }, index: number, from: number, to: number, elsewhere?: ShardSource): Promise<Buffer> {
    const { erasure } = chunk;
    const hash = erasure.shards[index];
    const whole = from === 0 && to === erasure.shardSizeBytes;
    const expected = { hash, shardSizeBytes: erasure.shardSizeBytes };
    const failures: ReplicaFailure[] = [];
    for (const nodeId of this.shardCandidates(ring, chunk.hash, erasure, index)) {
      try {
        const res = await this.pools.for(nodeId).request({
          path: StoragePaths.chunk(hash),
          method: 'GET',
          headers: whole ? {} : { range: `bytes=${from}-${to - 1}` },
        });
        if (res.statusCode !== 200 && res.statusCode !== 206) {
          const reason = `HTTP ${res.statusCode}`;
          await res.body.dump();
          failures.push({ nodeId, address: this.pools.address(nodeId), reason });
          this.options.onShardFailover?.({ hash: hash as ContentHash, nodeId, reason, stripe: chunk.hash });
          continue;
        }
        const bytes = Buffer.from(await res.body.arrayBuffer());
        const reason = shardProblem(bytes, expected, from, to);
        if (reason) {
          failures.push({ nodeId, address: this.pools.address(nodeId), reason });
          this.options.onShardFailover?.({ hash: hash as ContentHash, nodeId, reason, stripe: chunk.hash });
          continue;
        }
        return bytes;
      } catch (error) {
        failures.push({ nodeId, address: this.pools.address(nodeId), reason: describeError(error) });
      }
    }
    if (elsewhere) {
      const problem = (reason: string) => failures.push({ nodeId: 'elsewhere', address: '', reason });
      try {
        const bytes = await elsewhere(hash);
        const shard = bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
        const reason = shard ? shardProblem(shard, expected, 0, erasure.shardSizeBytes) : 'not there';
        if (shard && reason === null) return shard.subarray(from, to);
        problem(reason ?? 'not there');
      } catch (error) {
        problem(describeError(error));
      }
    }
    throw new ChunkUnavailableError(hash as ContentHash, failures);
  }

  /** The placement's node for the shard first, then the other ring members (nodes declared down last). */
  private shardCandidates(ring: HashRing, chunkHash: string, erasure: ErasureLayout, index: number): string[] {
    const width = erasure.dataShards + erasure.parityShards;
    const placed = this.placementOf(ring, chunkHash, width)[index]?.nodeId;
    const others = ring.members.map((m) => m.nodeId).filter((n) => n !== placed);
    const ordered = placed ? [placed, ...others] : others;
    return [...ordered.filter((n) => !this.health.isDown(n)), ...ordered.filter((n) => this.health.isDown(n))];
  }

  /** The k data shards of a stripe, from any k intact shards (whole, verified), decoded when some are missing. */
  private async decodeData(ring: HashRing, chunk: ChunkRef & { readonly erasure: ErasureLayout }, elsewhere?: ShardSource): Promise<Uint8Array[]> {
    const { erasure } = chunk;
    const width = erasure.dataShards + erasure.parityShards;
    const shards: (Uint8Array | null)[] = new Array<Uint8Array | null>(width).fill(null);
    let intact = 0;
    // Data shards first (no decoding needed when they are all there), then parity until k are in hand.
    for (let i = 0; i < width && intact < erasure.dataShards; i++) {
      const shard = await this.fetchShard(ring, chunk, i, 0, erasure.shardSizeBytes, elsewhere).catch(() => null);
      if (shard) {
        shards[i] = shard;
        intact++;
      }
    }
    if (intact < erasure.dataShards) throw new ChunkUnavailableError(chunk.hash as ContentHash, [{ nodeId: '*', address: '', reason: new TooFewShardsError(intact, erasure.dataShards).message }]);
    return this.code(erasure.dataShards, erasure.parityShards).reconstructData(shards);
  }
}

