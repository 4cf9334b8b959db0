import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ChunkStore } from './chunk-store.port';

/** A ChunkStore in memory for unit tests; it counts calls and how many writes overlap. */
export class InMemoryChunkStore implements ChunkStore {
  readonly chunks = new Map<string, Buffer>();
  readonly reads: Array<{ hash: string; range?: { start: number; end: number } }> = [];
  writesInFlight = 0;
  maxWritesInFlight = 0;

  async write(bytes: Uint8Array, name?: string): Promise<string> {
    this.writesInFlight++;
    this.maxWritesInFlight = Math.max(this.maxWritesInFlight, this.writesInFlight);
    try {
      // Copy: the caller reuses its buffer once the write has returned.
      const copy = Buffer.from(bytes);
      await new Promise((resolve) => setImmediate(resolve));
      const hash = createHash('sha256').update(copy).digest('hex');
      // As a storage node does: a body that does not hash to the name it was sent under is refused.
      if (name !== undefined && name !== hash) throw new Error(`chunk named ${name} hashes to ${hash}`);
      this.chunks.set(hash, copy);
      return hash;
    } finally {
      this.writesInFlight--;
    }
  }

  async read(hash: string, range?: { readonly start: number; readonly end: number }, into?: Buffer): Promise<Readable> {
    const bytes = this.chunks.get(hash);
    if (!bytes) throw new Error(`no chunk ${hash}`);
    this.reads.push(range ? { hash, range: { ...range } } : { hash });
    const asked = range ? bytes.subarray(range.start, range.end) : bytes;
    if (into && asked.length <= into.length) {
      asked.copy(into);
      return Readable.from([into.subarray(0, asked.length)]);
    }
    return Readable.from([asked]);
  }
}
