import type { Readable } from 'node:stream';
import { parseContentHash } from '@cairn/hashing';
import type { ChunkClient } from '@cairn/chunk-client';
import type { ChunkStore } from './chunk-store.port';

/** The ChunkStore over the replication client: quorum writes, verified reads spread over the replicas (LatencyTracker.readOrder). */
export class ChunkClientStoreAdapter implements ChunkStore {
  constructor(private readonly client: ChunkClient) {}

  async write(bytes: Uint8Array, name?: string): Promise<string> {
    const result = await this.client.writeChunk(bytes, name === undefined ? undefined : { hash: parseContentHash(name) });
    return result.hash;
  }

  async read(hash: string, range?: { readonly start: number; readonly end: number }, into?: Buffer): Promise<Readable> {
    const result = await this.client.readChunk(parseContentHash(hash), range, into);
    return result.stream;
  }
}
