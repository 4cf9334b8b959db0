import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { contentHashOf } from '@cairn/hashing';
import { ClientHashMismatchError } from './chunk-client.errors';
import { DirectChunkReads, type PreparedRequest } from './direct-chunk-reads';
import { NodePools } from './storage-node.client';

const TIMEOUTS = { headersMs: 2_000, bodyMs: 2_000, idleMs: 2_000 };

/** A node's data plane as far as a whole GET goes: answers each request with what `answer` says. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ origin: string; server: Server; connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createServer(answer);
  server.on('connection', (socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, connections };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function prepared(headers: Record<string, string> = {}): PreparedRequest & { readonly events: string[] } {
  const events: string[] = [];
  const handler: Dispatcher.DispatchHandlers = {
    onHeaders: (statusCode) => {
      events.push(`headers ${statusCode}`);
      return true;
    },
    onComplete: () => void events.push('complete'),
    onError: (error) => void events.push(`error ${error.message}`),
  };
  return { headers, handler, events };
}

describe('DirectChunkReads', () => {
  const chunk = randomBytes(3 * 1024 * 1024 + 17);
  const hash = contentHashOf(chunk);
  let readBuffer: Buffer;
  let servers: Server[];
  let reads: DirectChunkReads[];

  beforeEach(() => {
    // Smaller than the chunk, so one chunk spans many socket reads.
    readBuffer = Buffer.alloc(64 * 1024);
    servers = [];
    reads = [];
  });
  afterEach(async () => {
    for (const r of reads) r.close();
    await Promise.all(servers.map(stop));
  });

  async function node(answer: (req: IncomingMessage, res: ServerResponse) => void) {
    const served = await serve(answer);
    servers.push(served.server);
    const direct = DirectChunkReads.forOrigin(served.origin, readBuffer, TIMEOUTS)!;
    reads.push(direct);
    return { ...served, direct };
  }

  /** In pieces, as a socket delivers them. */
  const sendBody = (res: ServerResponse, body: Buffer) => {
    for (let i = 0; i < body.length; i += 100_000) res.write(body.subarray(i, i + 100_000));
    res.end();
  };
  const sendChunk = (body: Buffer) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-length': body.length });
    sendBody(res, body);
  };

  it('receives a whole chunk into the target, verified, and keeps the connection for the next read', async () => {
    const seen: IncomingMessage[] = [];
    const { direct, connections } = await node((req, res) => {
      seen.push(req);
      sendChunk(chunk)(req, res);
    });
    const target = Buffer.alloc(chunk.length + 10);
    const request = prepared({ 'x-cairn-test': 'signed' });

    const outcome = await direct.read(`/chunks/${hash}`, request, hash, target);
    expect(outcome.kind).toBe('chunk');
    const bytes = outcome.kind === 'chunk' ? outcome.bytes : Buffer.alloc(0);
    expect(bytes.buffer).toBe(target.buffer);
    expect(bytes.equals(chunk)).toBe(true);
    expect(request.events).toEqual(['headers 200', 'complete']);
    expect(direct.idleCount).toBe(1);

    target.fill(0);
    const again = await direct.read(`/chunks/${hash}`, prepared(), hash, target);
    expect(again.kind === 'chunk' && again.bytes.equals(chunk)).toBe(true);
    expect(connections).toHaveLength(1);
    expect(seen.map((r) => [r.method, r.url, r.headers['x-cairn-test']])).toEqual([
      ['GET', `/chunks/${hash}`, 'signed'],
      ['GET', `/chunks/${hash}`, undefined],
    ]);
  });

  it('lands the body straight in the target: the shared read buffer takes only the head', async () => {
    const { direct } = await node((_req, res) => {
      res.writeHead(200, { 'content-length': chunk.length });
      res.flushHeaders();
      // The body after the head has been read on its own.
      setTimeout(() => sendBody(res, chunk), 50);
    });
    readBuffer.fill(0xa5);
    const target = Buffer.alloc(chunk.length + 10, 0x5a);

    const outcome = await direct.read(`/chunks/${hash}`, prepared(), hash, target);
    expect(outcome.kind === 'chunk' && outcome.bytes.equals(chunk)).toBe(true);
    // Past the head's few hundred bytes the shared buffer was never written; past the body, the target neither.
    expect(readBuffer.subarray(1024).every((b) => b === 0xa5)).toBe(true);
    expect(target.subarray(chunk.length).every((b) => b === 0x5a)).toBe(true);
  });

  it('refuses a body that does not hash to the chunk, and does not reuse its connection', async () => {
    const flipped = Buffer.from(chunk);
    flipped[1_234_567] ^= 0x01;
    const { direct } = await node(sendChunk(flipped));
    const request = prepared();
    const error = await direct.read(`/chunks/${hash}`, request, hash, Buffer.alloc(chunk.length)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientHashMismatchError);
    expect(request.events).toEqual([expect.stringMatching(/^error /)]);
    expect(direct.idleCount).toBe(0);
  });

  it('words an error response as the undici path does, keeping the connection when the body is framed by its length', async () => {
    let answer = 0;
    const { direct } = await node((_req, res) => {
      const error = JSON.stringify({ code: 'NoSuchChunk', message: 'not here' });
      if (++answer === 1) res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(error) });
      else res.writeHead(503, { 'content-type': 'application/json' });
      res.end(error);
    });
    const request = prepared();
    expect(await direct.read(`/chunks/${hash}`, request, hash, Buffer.alloc(chunk.length))).toEqual({ kind: 'refused', statusCode: 404, reason: 'HTTP 404 NoSuchChunk: not here' });
    expect(request.events).toEqual(['headers 404', 'complete']);
    expect(direct.idleCount).toBe(1);
    // Chunked: its status is enough, and its connection is not kept.
    expect(await direct.read(`/chunks/${hash}`, prepared(), hash, Buffer.alloc(chunk.length))).toEqual({ kind: 'refused', statusCode: 503, reason: 'HTTP 503' });
    expect(direct.idleCount).toBe(0);
  });

  it('refuses a body longer than the target, one cut short, and a chunked one', async () => {
    let answer = 0;
    const { direct } = await node((req, res) => {
      answer++;
      if (answer === 1) return sendChunk(chunk)(req, res);
      if (answer === 2) {
        res.writeHead(200, { 'content-length': chunk.length });
        res.write(chunk.subarray(0, 1000), () => res.destroy());
        return;
      }
      res.writeHead(200);
      res.end(chunk);
    });
    await expect(direct.read(`/chunks/${hash}`, prepared(), hash, Buffer.alloc(chunk.length - 1))).rejects.toThrow(/more than the/);
    await expect(direct.read(`/chunks/${hash}`, prepared(), hash, Buffer.alloc(chunk.length))).rejects.toThrow(/closed the connection/);
    await expect(direct.read(`/chunks/${hash}`, prepared(), hash, Buffer.alloc(chunk.length))).rejects.toThrow(/transfer encoding/);
  });

  it('opens a new connection when the node has closed the idle one', async () => {
    const { direct, server, connections } = await node(sendChunk(chunk));
    const target = Buffer.alloc(chunk.length);
    await direct.read(`/chunks/${hash}`, prepared(), hash, target);
    server.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(direct.idleCount).toBe(0);
    const outcome = await direct.read(`/chunks/${hash}`, prepared(), hash, target);
    expect(outcome.kind === 'chunk' && outcome.bytes.equals(chunk)).toBe(true);
    expect(connections).toHaveLength(2);
  });

  it('fails when the node does not answer', async () => {
    const direct = DirectChunkReads.forOrigin('http://127.0.0.1:1', readBuffer, TIMEOUTS)!;
    await expect(direct.read(`/chunks/${hash}`, prepared(), hash, Buffer.alloc(16))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('is not for nodes served over TLS', () => {
    expect(DirectChunkReads.forOrigin('https://127.0.0.1:9201', readBuffer, TIMEOUTS)).toBeNull();
  });
});

describe('NodePools.prepareGet', () => {
  it('gives the headers the pool signer adds, without sending anything', async () => {
    const signer: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
      dispatch({ ...options, headers: { ...(options.headers as Record<string, string>), authorization: `Cairn ${options.method} ${options.path}` } }, handler);
    const pools = new NodePools(() => 'http://127.0.0.1:1', signer);
    const { headers } = pools.prepareGet('n1', `/chunks/${'ab'.repeat(32)}`, { 'x-cairn-reader-verifies': 'true' });
    expect(headers).toEqual({ authorization: `Cairn GET /chunks/${'ab'.repeat(32)}`, 'x-cairn-reader-verifies': 'true' });
    await pools.close();
  });

  it('keeps one DirectChunkReads per plain HTTP node', async () => {
    const pools = new NodePools(() => 'http://127.0.0.1:1', (dispatch) => dispatch);
    expect(pools.directReads('n1')).toBeInstanceOf(DirectChunkReads);
    expect(pools.directReads('n1')).toBe(pools.directReads('n1'));
    await pools.close();
  });
});
