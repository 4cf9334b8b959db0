import { Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Streams `parts` through `stage` (a hasher, a decoder) and returns every byte it passed on. */
export async function pipeThrough(parts: readonly Buffer[], stage: Duplex): Promise<Buffer> {
  const received: Buffer[] = [];
  await pipeline(
    Readable.from(parts),
    stage,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(received);
}
