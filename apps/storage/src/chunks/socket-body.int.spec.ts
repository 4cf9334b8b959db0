import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { signedRequest as request, testClusterCredentials } from '@cairn/testing';
import { contentHashOf, type ContentHash } from '@cairn/hashing';
import { processDirectWriteBlocks } from '../adapters/chunk-file-writer';
import { chunkRelativePath, DIRECT_WRITE_BLOCK_COUNT, TEMP_DIR } from '../domain/chunk-layout';
import { startStandaloneDataPlane } from '../testing/standalone-data-plane';

const MiB = 1024 * 1024;

interface RawResponse {
  readonly head: string;
  readonly statusCode: number;
  readonly body: string;
  /** The node closed the connection after answering. */
  readonly closed: boolean;
}

/**
 * A chunk PUT written by hand on its own connection (the way a client that streams, stalls or
 * dies mid-body does), signed as a Cairn service with an unsigned payload.
 */
async function rawPut(
  url: string,
  hash: string,
  declaredBytes: number,
  send: (socket: net.Socket) => Promise<void>,
  extraHeaders: Record<string, string> = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const pathAndQuery = `/chunks/${hash}`;
  const headers: Record<string, string> = { host: `${hostname}:${port}`, 'content-type': 'application/octet-stream', 'content-length': String(declaredBytes), ...extraHeaders };
  Object.assign(headers, testClusterCredentials().signHttp({ method: 'PUT', pathAndQuery, headers, body: 'unsigned' }));
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const received: Buffer[] = [];
  const ended = new Promise<boolean>((resolve) => {
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(true));
  });
  socket.write(`PUT ${pathAndQuery} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  await send(socket);
  const closed = await Promise.race([ended, new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  socket.destroy();
  const text = Buffer.concat(received).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  return { head, statusCode: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body: split < 0 ? '' : text.slice(split + 4), closed };
}

function writeAll(socket: net.Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
}

/** Sends `bytes` in pieces of `pieceBytes`, waiting `pauseMs` between them. */
async function trickle(socket: net.Socket, bytes: Buffer, pieceBytes: number, pauseMs: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += pieceBytes) {
    await writeAll(socket, bytes.subarray(at, at + pieceBytes));
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('chunk PUT bodies the node reads from the socket itself', () => {
  let dataDir: string;
  let app: INestApplication;
  let url: string;
  const tempFiles = () => fsp.readdir(path.join(dataDir, TEMP_DIR));
  const stored = (hash: ContentHash) => fsp.readFile(path.join(dataDir, chunkRelativePath(hash)));
  const blocksFree = () => processDirectWriteBlocks()?.freeCount;

  beforeEach(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-socket-body-'));
    ({ app, url } = await startStandaloneDataPlane({ dataDir }));
  });
  afterEach(async () => {
    await app?.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it('stores a body sent with its length, answers with the connection closed, and gives the blocks back', async () => {
    expect(blocksFree()).toBe(DIRECT_WRITE_BLOCK_COUNT);
    for (const sizeBytes of [64 * 1024, MiB, 8 * MiB + 12_345]) {
      const data = randomBytes(sizeBytes);
      const hash = contentHashOf(data);
      const res = await request(`${url}/chunks/${hash}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
      expect(res.statusCode).toBe(201);
      expect(res.headers['connection']).toBe('close');
      expect(await res.body.json()).toEqual({ hash, sizeBytes, existed: false });
      expect((await stored(hash)).equals(data)).toBe(true);
    }
    expect(await tempFiles()).toEqual([]);
    expect(blocksFree()).toBe(DIRECT_WRITE_BLOCK_COUNT);
  });

  it('takes a body trickled in small pieces, and one whose bytes came with its head', async () => {
    const data = randomBytes(3 * MiB + 1);
    const hash = contentHashOf(data);
    const slow = await rawPut(url, hash, data.length, (s) => trickle(s, data, 7_777, 0));
    expect(slow.statusCode).toBe(201);
    expect(slow.closed).toBe(true);
    expect((await stored(hash)).equals(data)).toBe(true);

    const small = randomBytes(100 * 1024);
    const smallHash = contentHashOf(small);
    const eager = await rawPut(url, smallHash, small.length, (s) => writeAll(s, small));
    expect(eager.statusCode).toBe(201);
    expect((await stored(smallHash)).equals(small)).toBe(true);
  });

  it('refuses a body whose hash differs from its name, keeping nothing', async () => {
    const data = randomBytes(2 * MiB);
    const wrong = contentHashOf(Buffer.from('something else'));
    const res = await rawPut(url, wrong, data.length, (s) => writeAll(s, data));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'CHUNK_HASH_MISMATCH' });
    expect(res.closed).toBe(true);
    await expect(stored(wrong)).rejects.toThrow(/ENOENT/);
    expect(await tempFiles()).toEqual([]);
    expect(blocksFree()).toBe(DIRECT_WRITE_BLOCK_COUNT);
  });

  it('keeps nothing of a body that ends short (the client half-closes) or a client that disconnects mid-body, and serves on', async () => {
    const data = randomBytes(8 * MiB);
    const hash = contentHashOf(data);
    const short = await rawPut(url, hash, data.length, async (s) => {
      await writeAll(s, data.subarray(0, 3 * MiB));
      s.end();
    });
    expect(short.closed).toBe(true);
    expect(short.statusCode).not.toBe(201);
    const cut = await rawPut(url, hash, data.length, async (s) => {
      await writeAll(s, data.subarray(0, 5 * MiB));
      await new Promise((r) => setTimeout(r, 100));
      s.destroy();
    });
    expect(cut.statusCode).toBe(0);
    await waitFor(async () => (await tempFiles()).length === 0 && blocksFree() === DIRECT_WRITE_BLOCK_COUNT);
    await expect(stored(hash)).rejects.toThrow(/ENOENT/);

    const res = await request(`${url}/chunks/${hash}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.statusCode).toBe(201);
    await res.body.dump();
    expect((await stored(hash)).equals(data)).toBe(true);
  });

  it('stores the declared bytes of a client that sends more than it declared, and closes the connection', async () => {
    const data = randomBytes(MiB);
    const hash = contentHashOf(data);
    const res = await rawPut(url, hash, data.length, (s) => writeAll(s, Buffer.concat([data, Buffer.from('GET / HTTP/1.1\r\n\r\n garbage after the body')])));
    expect(res.statusCode).toBe(201);
    expect(res.closed).toBe(true);
    expect((await stored(hash)).equals(data)).toBe(true);
  });

  it('refuses a declared length past the chunk limit before reading the body', async () => {
    const res = await rawPut(url, contentHashOf('x'), 129 * MiB, (s) => writeAll(s, randomBytes(64 * 1024)));
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'CHUNK_TOO_LARGE' });
    expect(await tempFiles()).toEqual([]);
  });

  it('takes more PUTs at once than it has blocks for (the rest go through the page cache), each with its own bytes', async () => {
    const chunks = Array.from({ length: DIRECT_WRITE_BLOCK_COUNT / 2 + 4 }, (_, i) => randomBytes(2 * MiB + i));
    const results = await Promise.all(
      chunks.map(async (data) => {
        const res = await request(`${url}/chunks/${contentHashOf(data)}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
        await res.body.dump();
        return res.statusCode;
      }),
    );
    expect(results).toEqual(chunks.map(() => 201));
    for (const data of chunks) {
      const back = await stored(contentHashOf(data));
      expect(createHash('sha256').update(back).digest('hex')).toBe(contentHashOf(data));
    }
    expect(blocksFree()).toBe(DIRECT_WRITE_BLOCK_COUNT);
  });

  it('answers a PUT of a chunk it holds from the body as a stream, keeping the connection', async () => {
    const data = randomBytes(MiB);
    const hash = contentHashOf(data);
    await (await request(`${url}/chunks/${hash}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } })).body.dump();
    const again = await request(`${url}/chunks/${hash}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    expect(again.statusCode).toBe(200);
    expect(again.headers['connection']).not.toBe('close');
    expect(await again.body.json()).toEqual({ hash, sizeBytes: data.length, existed: true });
  });
});
