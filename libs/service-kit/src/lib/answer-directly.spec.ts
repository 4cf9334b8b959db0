import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { answerDirectly } from './bootstrap';

interface Answer {
  readonly status: number;
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

function get(server: Server, path: string): Promise<Answer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => (body += piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('answerDirectly', () => {
  const seen: string[] = [];
  let server: Server;

  beforeEach(async () => {
    seen.length = 0;
    // Stands in for Express: the listener the server was created with.
    server = createServer((_req, res) => {
      seen.push('framework');
      res.end('from the framework');
    });
    const front = [
      (_req: IncomingMessage, res: ServerResponse, next: () => void) => {
        seen.push('first');
        res.setHeader('x-first', '1');
        next();
      },
      (req: IncomingMessage, res: ServerResponse, next: () => void) => {
        seen.push('second');
        if (req.url === '/refused') {
          res.statusCode = 431;
          res.end('refused');
        } else next();
      },
      (req: IncomingMessage, _res: ServerResponse, next: () => void) => {
        if (req.url === '/throws') throw new Error('middleware bug');
        next();
      },
    ];
    answerDirectly(
      server,
      front,
      {
        claims: (req) => req.url !== '/health',
        serve: (_req, res) => {
          seen.push('direct');
          res.end('direct answer');
        },
      },
      { poweredBy: 'Express', logger: pino({ level: 'silent' }) },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('runs the front middleware in order, then the direct answer, never the framework', async () => {
    const answer = await get(server, '/bucket/key');
    expect(answer).toMatchObject({ status: 200, body: 'direct answer' });
    expect(seen).toEqual(['first', 'second', 'direct']);
    // The framework's header first, as Express set it before any middleware ran.
    expect(answer.rawHeaders.slice(0, 4)).toEqual(['X-Powered-By', 'Express', 'x-first', '1']);
  });

  it('hands requests it does not claim to the framework untouched', async () => {
    const answer = await get(server, '/health');
    expect(answer).toMatchObject({ status: 200, body: 'from the framework' });
    expect(seen).toEqual(['framework']);
    expect(answer.rawHeaders).not.toContain('x-first');
  });

  it('lets a front middleware answer without the direct path', async () => {
    const answer = await get(server, '/refused');
    expect(answer).toMatchObject({ status: 431, body: 'refused' });
    expect(seen).toEqual(['first', 'second']);
  });

  it('answers 500 when a front middleware throws, and the server keeps serving', async () => {
    expect((await get(server, '/throws')).status).toBe(500);
    expect((await get(server, '/bucket/key')).body).toBe('direct answer');
  });
});
