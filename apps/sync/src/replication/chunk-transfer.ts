import { ChunkClient, ChunkUnavailableError } from '@cairn/chunk-client';
import { parseContentHash } from '@cairn/hashing';
import { CairnError, CHUNK_RANGE_MAX_BYTES, FederationOps, MetadataErrorCodes, type ChunkRangeRequest, type ChunkRef } from '@cairn/protocol';
import type { FederationRequester } from '../federation/federation-rpc';
import { storedChunksOf, type ReplicaChunkPuller } from '../anti-entropy/replica-chunks.port';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A pulled range may take this long (it crosses a link that may be slow or throttled). */
const RANGE_TIMEOUT_MS = 30_000;
/** Chunks of one version pulled at once. */
const PULL_PARALLELISM = 4;

export const ChunkTransferErrors = {
  NoSuchChunk: 'NoSuchChunk',
} as const;

/** A chunk range as it crosses the link: bytes in base64 inside the federation's JSON reply. */
export interface ChunkRangeReply {
  readonly data: string;
}

/**
 * The serving side of a chunk pull: another region's sync asks for a byte range of a chunk this
 * region holds; it is read through the chunk client (fastest replica first, falling over) and sent
 * back. The puller verifies the whole chunk's hash when it stores it.
 */
export class ChunkRangeServer {
  constructor(private readonly chunks: ChunkClient) {}

  async serve(payload: unknown): Promise<ChunkRangeReply> {
    const request = validRangeRequest(payload);
    try {
      const read = await this.chunks.readChunk(parseContentHash(request.hash), { start: request.offsetBytes, end: request.offsetBytes + request.lengthBytes });
      const pieces: Buffer[] = [];
      for await (const piece of read.stream) pieces.push(Buffer.from(piece as Uint8Array));
      return { data: Buffer.concat(pieces).toString('base64') };
    } catch (error) {
      if (error instanceof ChunkUnavailableError) throw new CairnError(ChunkTransferErrors.NoSuchChunk, `chunk ${request.hash} is not held in this region`);
      throw error;
    }
  }
}

function validRangeRequest(payload: unknown): ChunkRangeRequest {
  const r = payload as Partial<ChunkRangeRequest> | null;
  const valid =
    r !== null &&
    typeof r === 'object' &&
    typeof r.hash === 'string' &&
    SHA256_HEX.test(r.hash) &&
    Number.isSafeInteger(r.offsetBytes) &&
    (r.offsetBytes as number) >= 0 &&
    Number.isSafeInteger(r.lengthBytes) &&
    (r.lengthBytes as number) > 0 &&
    (r.lengthBytes as number) <= CHUNK_RANGE_MAX_BYTES;
  if (!valid) throw new CairnError(MetadataErrorCodes.InvalidArgument, `a chunk range is {hash: sha256 hex, offsetBytes >= 0, lengthBytes 1..${CHUNK_RANGE_MAX_BYTES}}`);
  return r as ChunkRangeRequest;
}

/**
 * Brings a version's chunks into this region before the version may be seen here
 * (docs/replication.md): a chunk this region's storage already holds (content addressing: the
 * same bytes written here, or pulled before) is not pulled again; a missing one is pulled range by
 * range from the source region's sync and streamed to this region's replicas, which refuse it
 * unless its bytes hash to its name.
 */
export class FederationChunkPuller implements ReplicaChunkPuller {
  pulledChunks = 0;
  pulledBytes = 0;

  constructor(
    private readonly chunks: ChunkClient,
    private readonly federation: FederationRequester,
    /** Resolves once this region's ring is loaded (the chunk client needs it). */
    private readonly ringReady: () => Promise<void>,
  ) {}

  async ensureChunks(sourceRegion: string, refs: readonly ChunkRef[], signal: AbortSignal): Promise<number> {
    const wanted = uniqueByHash(storedChunksOf(refs));
    if (wanted.length > 0) await this.ringReady();
    let pulled = 0;
    for (let i = 0; i < wanted.length; i += PULL_PARALLELISM) {
      signal.throwIfAborted();
      const results = await Promise.all(wanted.slice(i, i + PULL_PARALLELISM).map((chunk) => this.ensureChunk(sourceRegion, chunk, signal)));
      pulled += results.filter(Boolean).length;
    }
    return pulled;
  }

  /** True when the chunk had to be pulled. */
  private async ensureChunk(sourceRegion: string, chunk: ChunkRef, signal: AbortSignal): Promise<boolean> {
    if (await this.heldHere(chunk)) return false;
    await this.chunks.writeChunk(this.rangesOf(sourceRegion, chunk, signal), { hash: parseContentHash(chunk.hash), sizeBytes: chunk.sizeBytes });
    this.pulledChunks += 1;
    this.pulledBytes += chunk.sizeBytes;
    return true;
  }

  private async heldHere(chunk: ChunkRef): Promise<boolean> {
    try {
      const read = await this.chunks.readChunk(parseContentHash(chunk.hash), { start: 0, end: Math.min(1, chunk.sizeBytes) || 1 });
      read.stream.resume();
      return true;
    } catch (error) {
      if (error instanceof ChunkUnavailableError) return false;
      throw error;
    }
  }

  private async *rangesOf(sourceRegion: string, chunk: ChunkRef, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    for (let offsetBytes = 0; offsetBytes < chunk.sizeBytes; offsetBytes += CHUNK_RANGE_MAX_BYTES) {
      signal.throwIfAborted();
      const lengthBytes = Math.min(CHUNK_RANGE_MAX_BYTES, chunk.sizeBytes - offsetBytes);
      const reply = await this.federation.request<ChunkRangeReply>(sourceRegion, FederationOps.chunkRange, { hash: chunk.hash, offsetBytes, lengthBytes }, RANGE_TIMEOUT_MS);
      const bytes = Buffer.from(reply.data, 'base64');
      if (bytes.byteLength !== lengthBytes) throw new Error(`chunk ${chunk.hash} from ${sourceRegion}: asked ${lengthBytes} bytes at ${offsetBytes}, got ${bytes.byteLength}`);
      yield bytes;
    }
  }
}

function uniqueByHash(chunks: readonly ChunkRef[]): ChunkRef[] {
  const seen = new Map<string, ChunkRef>();
  for (const c of chunks) if (!seen.has(c.hash)) seen.set(c.hash, c);
  return [...seen.values()];
}
