import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BodyWindows } from '../domain/chunk-store.port';
import { findOnreadSlots, takeSocketBody, type SocketBody } from './socket-body';

const KiB = 1024;

/**
 * Windows over two small blocks, each "written" (copied out) `writeMs` after it fills, so the
 * body must pause while both are busy; what landed is kept in order.
 */
class SlowWindows implements BodyWindows {
  readonly received: Buffer[] = [];
  private readonly blocks = [Buffer.alloc(4 * KiB), Buffer.alloc(4 * KiB)];
  private readonly busy = [false, false];
  private current = 0;
  private filled = 0;
  private total = 0;
  private waiting = false;
  pauses = 0;
  body: SocketBody | null = null;

  constructor(
    private readonly lengthBytes: number,
    private readonly writeMs: number,
  ) {}

  next(): Uint8Array | null {
    if (this.busy[this.current]) {
      if (!this.waiting) this.pauses++;
      this.waiting = true;
      return null;
    }
    return this.blocks[this.current].subarray(this.filled);
  }

  landed(count: number): void {
    this.filled += count;
    this.total += count;
    const block = this.blocks[this.current];
    if (this.filled === block.length || this.total === this.lengthBytes) {
      const index = this.current;
      const bytes = Buffer.from(block.subarray(0, this.filled));
      this.busy[index] = true;
      this.current ^= 1;
      this.filled = 0;
      setTimeout(() => {
        this.received.push(bytes);
        this.busy[index] = false;
        if (this.waiting) {
          this.waiting = false;
          this.body?.more();
        }
      }, this.writeMs);
    }
  }
}

interface Outcome {
  readonly taken: boolean;
  readonly received?: Buffer;
  readonly pauses?: number;
  readonly error?: Error;
}

/** A plain Node HTTP server whose handler takes each body and answers with what it received. */
async function withServer(writeMs: number, run: (port: number, outcomes: Outcome[]) => Promise<void>): Promise<void> {
  const outcomes: Outcome[] = [];
  const server = http.createServer((req, res) => {
    const length = Number(req.headers['content-length'] ?? -1);
    const body = length > 0 ? takeSocketBody(req, length) : null;
    if (!body) {
      outcomes.push({ taken: false });
      req.resume();
      req.on('end', () => res.end('streamed'));
      return;
    }
    const windows = new SlowWindows(length, writeMs);
    windows.body = body;
    body.receive(windows).then(
      () =>
        // The last block's copy is made after its timer.
        setTimeout(() => {
          outcomes.push({ taken: true, received: Buffer.concat(windows.received), pauses: windows.pauses });
          res.setHeader('connection', 'close');
          res.end('taken');
        }, writeMs + 20),
      (error: Error) => outcomes.push({ taken: true, error }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run((server.address() as AddressInfo).port, outcomes);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function put(port: number, body: Buffer, options: { chunked?: boolean; cutAfter?: number } = {}): Promise<{ status: number; text: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/', agent: false, headers: options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString(), connection: res.headers.connection }));
    });
    req.on('error', reject);
    if (options.cutAfter !== undefined) {
      req.write(body.subarray(0, options.cutAfter), () => setTimeout(() => req.destroy(new Error('cut')), 50));
      return;
    }
    req.end(body);
  });
}

describe('takeSocketBody', () => {
  it('finds the socket slots onread uses', () => {
    expect(findOnreadSlots()).not.toBeNull();
  });

  it('receives every byte in order into the windows lent, pausing while none is free', async () => {
    await withServer(5, async (port, outcomes) => {
      const body = randomBytes(256 * KiB + 3);
      const res = await put(port, body);
      expect(res).toEqual({ status: 200, text: 'taken', connection: 'close' });
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0].error).toBeUndefined();
      expect(outcomes[0].received!.equals(body)).toBe(true);
      expect(outcomes[0].pauses).toBeGreaterThan(0);
    });
  });

  it('leaves a body without a declared length to the server', async () => {
    await withServer(0, async (port, outcomes) => {
      const res = await put(port, randomBytes(100 * KiB), { chunked: true });
      expect(res.text).toBe('streamed');
      expect(outcomes).toEqual([{ taken: false }]);
    });
  });

  it('rejects when the client goes away mid-body', async () => {
    await withServer(1, async (port, outcomes) => {
      await expect(put(port, randomBytes(512 * KiB), { cutAfter: 64 * KiB })).rejects.toThrow();
      for (let i = 0; i < 100 && outcomes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0].error?.message).toMatch(/(closed|ended) after \d+ of 524288/);
    });
  });
});
