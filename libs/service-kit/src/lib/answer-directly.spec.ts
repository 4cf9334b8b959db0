import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
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
        serve: (req, res) => {
          const slow = req.url?.startsWith('/slow/');
          seen.push(slow ? `direct ${req.url}` : 'direct');
          if (!slow) return void res.end('direct answer');
          setTimeout(() => {
            seen.push(`answered ${req.url}`);
            res.end(`answer to ${req.url}`);
          }, 50);
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

  it('serves requests pipelined on one connection one after another: the next starts once the previous is answered', async () => {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (piece) => (received += String(piece)));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    // As a client pipelines a PUT and then a DELETE of the same key: the second must not overtake the first.
    socket.write('GET /slow/first HTTP/1.1\r\nHost: x\r\n\r\nGET /slow/second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closed;
    expect(seen.filter((step) => step.includes('/slow/'))).toEqual(['direct /slow/first', 'answered /slow/first', 'direct /slow/second', 'answered /slow/second']);
    expect(received.indexOf('answer to /slow/first')).toBeLessThan(received.indexOf('answer to /slow/second'));
  });
});
