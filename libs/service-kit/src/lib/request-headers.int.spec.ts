import { Controller, Get, Req } from '@nestjs/common';
import { connect } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { MAX_REQUEST_HEADERS, type RunningService } from './bootstrap';
import { Access } from './security/route-access';
import type { BaseServiceConfig } from './config/service-config';
import { startTestService, stopTestService, testServiceNamespace } from './testing/test-service.spec-helper';

@Access('public')
@Controller('probe')
class ProbeController {
  @Get()
  probe(@Req() req: IncomingMessage) {
    return { probe: req.headers['x-probe'] ?? null, headers: Object.keys(req.headers).length };
  }
}

/** One raw HTTP/1.1 request with exactly these header lines, in this order; the status and body of the answer. */
async function rawGet(url: string, path: string, headerLines: readonly string[]): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\n${headerLines.map((line) => `${line}\r\n`).join('')}\r\n`);
    });
    let answer = '';
    socket.on('data', (data) => (answer += String(data)));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ status, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** `count` header lines: Host and Connection first, fillers, and `last` as the final line. */
function headerLines(count: number, last: string): string[] {
  const lines = ['Host: localhost', 'Connection: close'];
  while (lines.length < count - 1) lines.push(`x-filler-${lines.length}: f`);
  lines.push(last);
  return lines;
}

describe('request header count', () => {
  const namespace = testServiceNamespace();
  let running: RunningService<BaseServiceConfig>;

  beforeAll(async () => {
    running = await startTestService(namespace, 'headers', { controllers: [ProbeController] });
  });
  afterAll(() => stopTestService(namespace, running));

  it(`takes a request with exactly MAX_REQUEST_HEADERS (${MAX_REQUEST_HEADERS}) headers whole`, async () => {
    const answer = await rawGet(running.url, '/probe', headerLines(MAX_REQUEST_HEADERS, 'x-probe: seen'));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ probe: 'seen', headers: MAX_REQUEST_HEADERS });
  });

  it('refuses a request with more headers than that with 431, rather than dropping the ones past the limit', async () => {
    // As in the finding: the header that matters is the 207th.
    const answer = await rawGet(running.url, '/probe', headerLines(207, 'x-probe: seen'));
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'TOO_MANY_HEADERS', message: expect.stringContaining(String(MAX_REQUEST_HEADERS)) });
  });

  it('refuses far more headers too, on every route (health included)', async () => {
    expect((await rawGet(running.url, '/health/live', headerLines(1_000, 'x-probe: seen'))).status).toBe(431);
  });
});
