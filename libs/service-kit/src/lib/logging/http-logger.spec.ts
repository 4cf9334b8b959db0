import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { httpLogger } from './request-id';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly err?: unknown;
}

/** A server logging through httpLogger into memory; every handler reads the body whole, then answers. */
async function loggedServer(successLevel: 'info' | 'debug'): Promise<{ server: Server; lines: LogLine[]; port: number }> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const log = httpLogger(pino({ level: 'trace' }, sink), { successLevel });
  const server = createServer((req, res) => {
    log(req, res);
    req.on('data', () => undefined);
    req.on('end', () => res.end('done'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, lines, port: (server.address() as AddressInfo).port };
}

const DEBUG = pino.levels.values['debug'];

describe('httpLogger', () => {
  it.each(['info', 'debug'] as const)('logs a client that goes away mid-request at debug (successful requests at %s), never as an error', async (successLevel) => {
    const { server, lines, port } = await loggedServer(successLevel);
    try {
      const req = request({ port, host: '127.0.0.1', method: 'PUT', path: '/upload', headers: { 'content-length': '1000000' } });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(1_000));
      await new Promise((resolve) => setTimeout(resolve, 50));
      req.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const aborted = lines.filter((line) => line.msg === 'request aborted');
      expect(aborted).toHaveLength(1);
      expect(aborted[0].level).toBe(DEBUG);
    } finally {
      server.close();
    }
  });
});
