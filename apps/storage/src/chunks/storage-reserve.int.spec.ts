import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { request as unsignedRequest } from 'undici';
import { signedRequest as request } from '@cairn/testing';
import { sendChunkPastTheAnswer } from '../testing/raw-chunk-put.spec-helper';
import { startStandaloneDataPlane } from '../testing/standalone-data-plane';

const OCTETS = { 'content-type': 'application/octet-stream' };
const MiB = 1024 * 1024;

describe('a storage node at its disk reserve (real HTTP and disk)', () => {
  let dataDir: string;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-reserve-'));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  const node = async (reserveBytes: number) => {
    const started = await startStandaloneDataPlane({ dataDir: path.join(dataDir, String(apps.length)), reserveBytes });
    apps.push(started.app);
    return started.url;
  };

  it('refuses a chunk with 507 STORAGE_FULL before reading its body, and still serves what it has', async () => {
    const full = await node(Number.MAX_SAFE_INTEGER);
    // A body that would never end: the answer must not wait for it.
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += MiB;
        this.push(sent > 64 * MiB ? null : Buffer.alloc(MiB));
      },
    });
    const hash = createHash('sha256').update('never stored').digest('hex');
    const res = await request(`${full}/chunks/${hash}`, { method: 'PUT', body: endless, headers: { ...OCTETS, 'content-length': String(64 * MiB) } });
    expect(res.statusCode).toBe(507);
    expect(await res.body.json()).toMatchObject({ code: 'STORAGE_FULL', message: expect.stringContaining('in reserve') });
    expect(sent).toBeLessThan(64 * MiB);
    expect((await request(`${full}/chunks/${hash}`)).statusCode).toBe(404);

    // Unsigned requests are refused as before, whatever the disk.
    expect((await unsignedRequest(`${full}/chunks/${hash}`, { method: 'PUT', body: 'x', headers: OCTETS })).statusCode).toBe(401);
  });

  it('answers a caller still sending its body with the 507 and an orderly end, not a reset that overtakes it', async () => {
    // A chunk whose hash is known streams to each replica as it arrives (ChunkClient.writeStreamed:
    // sync's cross-region transfer): its sender is still writing when the refusal comes. Destroying
    // the connection then made its kernel reset, and the chunk client reported 'write EPIPE'
    // instead of STORAGE_FULL (9 of 60 streamed 1 MiB PUTs, 12 at a time).
    const full = await node(Number.MAX_SAFE_INTEGER);
    const outcome = await sendChunkPastTheAnswer(full, createHash('sha256').update('still sending').digest('hex'), { declaredBytes: 8 * MiB, sendBeforeAnswer: 64 * 1024 });
    expect(outcome.failure).toBeUndefined();
    expect(outcome.received).toMatch(/^HTTP\/1\.1 507 /);
    expect(outcome.received.toLowerCase()).toContain('connection: close');
    expect(outcome.received).toContain('STORAGE_FULL');
    expect(outcome.ended).toBe(true);
  });

  it('closes as gently after any other refusal of an unread body (a chunk declared too large)', async () => {
    const roomy = await node(0);
    const outcome = await sendChunkPastTheAnswer(roomy, createHash('sha256').update('too large').digest('hex'), { declaredBytes: 1024 * MiB, sendBeforeAnswer: 64 * 1024 });
    expect(outcome.failure).toBeUndefined();
    expect(outcome.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.received).toContain('CHUNK_TOO_LARGE');
    expect(outcome.ended).toBe(true);
  });

  it('takes chunks while the reserve stays free', async () => {
    const roomy = await node(1024 * 1024);
    const body = randomBytes(256 * 1024);
    const hash = createHash('sha256').update(body).digest('hex');
    const res = await request(`${roomy}/chunks/${hash}`, { method: 'PUT', body, headers: OCTETS });
    expect(res.statusCode).toBe(201);
    await res.body.dump();
  });
});
