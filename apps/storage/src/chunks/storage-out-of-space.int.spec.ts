import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { contentHashOf } from '@cairn/hashing';
import { signedRequest as request } from '@cairn/testing';
import { processDirectWriteBlocks } from '../adapters/chunk-file-writer';
import { DIRECT_WRITE_BLOCK_COUNT, TEMP_DIR } from '../domain/chunk-layout';
import { sendChunkPastTheAnswer } from '../testing/raw-chunk-put.spec-helper';
import { startStandaloneDataPlane } from '../testing/standalone-data-plane';

const MiB = 1024 * 1024;
/** The filesystem is this small, so that a chunk larger than it runs out of space part-way. */
const FILESYSTEM_BYTES = 16 * MiB;
/** Larger than the filesystem: the write fails with ENOSPC after the node has read a good part of the body. */
const CHUNK_BYTES = 40 * MiB;
const OCTETS = { 'content-type': 'application/octet-stream' };

/** A small filesystem needs mount (and root); where it cannot be had, these specifications are skipped. */
const canMount = process.getuid?.() === 0 && ['mount', 'umount', 'mkfs.ext4'].every((tool) => commandExists(tool));
const describeWithMount = canMount ? describe : describe.skip;

describeWithMount('a storage node whose disk runs out of space while it reads a chunk body (a real small ext4 filesystem on a loop device)', () => {
  let root: string;

  beforeAll(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-out-of-space-'));
  });
  afterAll(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  /**
   * ext4 takes O_DIRECT, so a chunk is written from the node's aligned blocks either way: a body
   * framed by its length is read from the socket by the node itself (socket-body.ts), a chunked
   * one comes through the HTTP server.
   */
  describe.each([
    { framing: 'a body framed by its length (read from the socket by the node)', chunked: false },
    { framing: 'a chunked body (read through the HTTP server)', chunked: true },
  ])('$framing', ({ chunked }) => {
    let dataDir: string;
    let unmount: () => void;
    let app: INestApplication;
    let url: string;

    beforeEach(async () => {
      dataDir = await fsp.mkdtemp(path.join(root, 'node-'));
      unmount = mountExt4(dataDir, root);
      // No reserve: the body is admitted, and the filesystem itself refuses it part-way.
      ({ app, url } = await startStandaloneDataPlane({ dataDir, reserveBytes: 0 }));
    });
    afterEach(async () => {
      await app?.close();
      unmount?.();
    });

    it("answers the chunk client's transport 507 STORAGE_FULL with the reason, not a reset, and keeps nothing", async () => {
      const body = randomBytes(CHUNK_BYTES);
      const hash = contentHashOf(body);
      const res = await request(`${url}/chunks/${hash}`, { method: 'PUT', body: chunked ? Readable.from([body]) : body, headers: OCTETS });
      expect(res.statusCode).toBe(507);
      expect(await res.body.json()).toMatchObject({ code: 'STORAGE_FULL', message: expect.stringContaining('out of space (ENOSPC)') });
      await waitFor(async () => (await fsp.readdir(path.join(dataDir, TEMP_DIR))).length === 0);
      expect((await request(`${url}/chunks/${hash}`, { method: 'HEAD' })).statusCode).toBe(404);
      expect(processDirectWriteBlocks()?.freeCount).toBe(DIRECT_WRITE_BLOCK_COUNT);
    });

    it('ends the connection in order while the caller is still sending, and takes a chunk that fits afterwards', async () => {
      const outcome = await sendChunkPastTheAnswer(url, contentHashOf(randomBytes(32)), { declaredBytes: CHUNK_BYTES, sendBeforeAnswer: CHUNK_BYTES, chunked });
      expect(outcome.failure).toBeUndefined();
      expect(outcome.received).toMatch(/^HTTP\/1\.1 507 /);
      expect(outcome.received.toLowerCase()).toContain('connection: close');
      expect(outcome.received).toContain('STORAGE_FULL');
      expect(outcome.ended).toBe(true);

      // The part written was removed: the space is back.
      const fits = randomBytes(2 * MiB);
      const res = await request(`${url}/chunks/${contentHashOf(fits)}`, { method: 'PUT', body: fits, headers: OCTETS });
      expect(res.statusCode).toBe(201);
      await res.body.dump();
    });
  });
});

function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function mountExt4(dir: string, scratch: string): () => void {
  const image = path.join(scratch, `${path.basename(dir)}.img`);
  execFileSync('truncate', ['-s', String(FILESYSTEM_BYTES), image]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', image]);
  execFileSync('mount', ['-o', 'loop', image, dir]);
  return () => execFileSync('umount', [dir]);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
