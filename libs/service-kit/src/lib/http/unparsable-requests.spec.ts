import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { answerUnparsableRequests, type UnparsableRequest } from './unparsable-requests';

/** Writes `bytes` on a fresh connection and resolves with all that came back once the server closes it. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (piece) => (received += piece.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(bytes);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('answerUnparsableRequests', () => {
  let server: Server;
  let port: number;
  const refusals: UnparsableRequest[] = [];

  async function listen(withAnswers: 'json' | 'custom'): Promise<void> {
    server = createServer((_req, res) => res.end('served'));
    if (withAnswers === 'json') answerUnparsableRequests(server);
    else {
      answerUnparsableRequests(server, (refusal) => {
        refusals.push(refusal);
        return { status: refusal.status === 431 ? 400 : refusal.status, contentType: 'application/xml', body: `<Error><Code>${refusal.reason}</Code></Error>`, headers: { 'x-amz-request-id': 'r1' } };
      });
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  afterEach(async () => {
    refusals.length = 0;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: x\r\ngarbage\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['a non-numeric Content-Length', 'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['both Content-Length and Transfer-Encoding', 'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['a header section over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
  ])('answers %s with the service error JSON (not a bare status line) and closes', async (_what, request, status, code) => {
    await listen('json');
    const answer = await exchange(port, request);
    expect(statusOf(answer)).toBe(status);
    expect(answer).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/);
    const body = JSON.parse(bodyOf(answer)) as { code: string; message: string; requestId: string };
    expect(body).toEqual({ code, message: expect.stringContaining('HPE_'), requestId: expect.any(String) });
    expect(answer).toContain(`\r\nx-request-id: ${body.requestId}\r\n`);
  });

  it('answers CONNECT with 405 rather than dropping the connection without a word', async () => {
    await listen('json');
    const answer = await exchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(statusOf(answer)).toBe(405);
    expect(JSON.parse(bodyOf(answer))).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it("takes the service's own format (e.g. S3 XML) and status", async () => {
    await listen('custom');
    const answer = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(statusOf(answer)).toBe(400);
    expect(answer).toContain('\r\nx-amz-request-id: r1\r\n');
    expect(bodyOf(answer)).toBe('<Error><Code>HPE_HEADER_OVERFLOW</Code></Error>');
    expect(refusals).toEqual([{ status: 431, reason: 'HPE_HEADER_OVERFLOW' }]);
  });
});
