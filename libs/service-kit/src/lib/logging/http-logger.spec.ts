import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { httpLogger, markRefusal } from './request-id';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly err?: unknown;
  readonly req?: unknown;
  readonly res?: unknown;
  readonly responseTime?: unknown;
  readonly refusal?: unknown;
}

/** A server logging through httpLogger into memory; every handler reads the body whole, then answers. */
async function loggedServer(
  successLevel: 'info' | 'debug',
  loggerLevel = 'trace',
  statusCode = 200,
  refusal?: string,
): Promise<{ server: Server; lines: LogLine[]; port: number }> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const log = httpLogger(pino({ level: loggerLevel }, sink), { successLevel });
  const server = createServer((req, res) => {
    log(req, res);
    req.on('data', () => undefined);
    req.on('end', () => {
      res.statusCode = statusCode;
      if (refusal !== undefined) markRefusal(res, refusal);
      res.end('done');
    });
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

  async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<string | undefined> {
    const req = request({ port, host: '127.0.0.1', method: 'GET', path, headers });
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    res.resume();
    await once(res, 'end');
    await new Promise((resolve) => setImmediate(resolve));
    return res.headers['x-request-id'] as string | undefined;
  }

  it('logs a finished request as one line: its id, method, masked URL, status and time, never its headers', async () => {
    const { server, lines, port } = await loggedServer('info');
    try {
      const id = await get(port, '/b/k?X-Amz-Signature=secret&x=1', { authorization: 'AWS4-HMAC-SHA256 Credential=a', 'x-request-id': 'given-1' });
      expect(id).toBe('given-1');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: pino.levels.values['info'], msg: 'request completed', req: { id: 'given-1', method: 'GET' }, res: { statusCode: 200 } });
      expect(typeof lines[0].responseTime).toBe('number');
      expect(JSON.stringify(lines[0])).not.toContain('secret');
      expect(JSON.stringify(lines[0])).not.toContain('Credential');
      expect(await get(port, '/health')).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines).toHaveLength(1);
    } finally {
      server.close();
    }
  });

  it('writes nothing for a request below the logger level, and a 5xx as an error', async () => {
    const quiet = await loggedServer('debug', 'info');
    try {
      await get(quiet.port, '/b/k');
      expect(quiet.lines).toHaveLength(0);
    } finally {
      quiet.server.close();
    }
    const failing = await loggedServer('debug', 'info', 503);
    try {
      await get(failing.port, '/b/k');
      expect(failing.lines).toHaveLength(1);
      expect(failing.lines[0]).toMatchObject({ level: pino.levels.values['error'], msg: 'request errored', res: { statusCode: 503 } });
    } finally {
      failing.server.close();
    }
  });

  it('logs a 404 at the level of a success (a client asking whether a key exists), other client errors as warnings', async () => {
    const missing = await loggedServer('debug', 'info', 404);
    try {
      await get(missing.port, '/b/absent');
      expect(missing.lines).toHaveLength(0);
    } finally {
      missing.server.close();
    }
    const forbidden = await loggedServer('debug', 'info', 403);
    try {
      await get(forbidden.port, '/b/k');
      expect(forbidden.lines).toHaveLength(1);
      expect(forbidden.lines[0]).toMatchObject({ level: pino.levels.values['warn'], msg: 'request completed', res: { statusCode: 403 } });
    } finally {
      forbidden.server.close();
    }
  });

  it.each([503, 507])('logs a request refused for an expected condition (markRefusal, %s) as one warn line with the reason and no stack', async (statusCode) => {
    const refusing = await loggedServer('debug', 'info', statusCode, 'too few storage nodes have free space');
    try {
      await get(refusing.port, '/b/k');
      expect(refusing.lines).toHaveLength(1);
      expect(refusing.lines[0]).toMatchObject({
        level: pino.levels.values['warn'],
        msg: 'request refused',
        refusal: 'too few storage nodes have free space',
        res: { statusCode },
      });
      expect(refusing.lines[0].err).toBeUndefined();
      expect(JSON.stringify(refusing.lines[0])).not.toContain('stack');
    } finally {
      refusing.server.close();
    }
  });
});
