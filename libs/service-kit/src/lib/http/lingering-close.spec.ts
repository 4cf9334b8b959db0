import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { closeLingering } from './lingering-close';

const KiB = 1024;

/** A server that refuses every request before reading its body, closing lingeringly within the limits given. */
async function refusingServer(maxMs: number, maxBytes: number, answerAfterMs = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const refuse = () => {
      res.setHeader('connection', 'close');
      res.once('finish', () => closeLingering(req, maxMs, maxBytes));
      res.statusCode = 413;
      res.end('refused');
    };
    if (answerAfterMs > 0) setTimeout(refuse, answerAfterMs);
    else refuse();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * Sends a request declaring a huge body, then `piece` bytes every `everyMs` until the connection
 * ends; what came back, how it ended and when (ms after the answer).
 */
function sendUntilCut(port: number, piece: number, everyMs: number): Promise<{ answer: string; failure?: string; afterAnswerMs: number; sentAfterAnswer: number }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let answeredAt = 0;
    let sentAfterAnswer = 0;
    let failure: string | undefined;
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      answeredAt ||= Date.now();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (failure = error.code));
    const timer = setInterval(() => {
      if (socket.destroyed || failure) return;
      socket.write(Buffer.alloc(piece));
      if (answeredAt) sentAfterAnswer += piece;
    }, everyMs);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, failure, afterAnswerMs: Date.now() - answeredAt, sentAfterAnswer });
    });
    socket.write(`PUT /x HTTP/1.1\r\nhost: test\r\ncontent-length: ${1024 * 1024 * 1024}\r\n\r\n`);
  });
}

describe('closeLingering', () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  it('lets a client that goes on sending read the answer and the end, then cuts it after maxMs', async () => {
    const { server, port } = await refusingServer(300, 64 * 1024 * KiB);
    servers.push(server);
    const outcome = await sendUntilCut(port, 4 * KiB, 10);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 [\s\S]*refused$/);
    // Writes went on being taken after the answer, until the deadline cut the connection.
    expect(outcome.sentAfterAnswer).toBeGreaterThan(0);
    expect(outcome.afterAnswerMs).toBeGreaterThanOrEqual(250);
    expect(outcome.afterAnswerMs).toBeLessThan(2_000);
  });

  it('cuts a client sooner once it has sent maxBytes after the answer', async () => {
    const { server, port } = await refusingServer(10_000, 256 * KiB);
    servers.push(server);
    const outcome = await sendUntilCut(port, 64 * KiB, 1);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.afterAnswerMs).toBeLessThan(1_000);
    expect(outcome.sentAfterAnswer).toBeLessThan(64 * 1024 * KiB);
  });

  it('still reads after the unread body had filled the request and stopped the socket before the answer', async () => {
    // Answered 200 ms in, while the client sends fast: the body nobody reads fills the request's
    // buffer and the HTTP server stops reading the socket before closeLingering runs.
    const { server, port } = await refusingServer(10_000, 256 * KiB, 200);
    servers.push(server);
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await sendUntilCut(port, 64 * KiB, 1);
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(outcome.afterAnswerMs).toBeLessThan(5_000);
    }
  });
});
