import { Body, Controller, Get, Param, Post, Query, Req } from '@nestjs/common';
import { IsOptional, IsString } from 'class-validator';
import { connect } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { MAX_REQUEST_HEADERS, type RunningService } from './bootstrap';
import { MAX_BODY_DEPTH } from './http/untrusted-input.interceptor';
import { Access } from './security/route-access';
import type { BaseServiceConfig } from './config/service-config';
import { startTestService, stopTestService, testServiceNamespace } from './testing/test-service.spec-helper';

class ProbeBody {
  @IsOptional()
  @IsString()
  readonly name?: string;
}

@Access('public')
@Controller('probe')
class ProbeController {
  @Get()
  probe(@Req() req: IncomingMessage) {
    return { probe: req.headers['x-probe'] ?? null, headers: Object.keys(req.headers).length };
  }

  @Post()
  echo(@Body() body: ProbeBody) {
    return { name: body.name ?? null };
  }

  @Get('names/:name')
  named(@Param('name') name: string, @Query('q') q?: string) {
    return { name, q: q ?? null };
  }

  @Access('cluster')
  @Post('signed')
  signed(@Body() body: ProbeBody) {
    return { name: body.name ?? null };
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

/** One POST with a JSON body; the status and the parsed error or reply. */
async function postJson(url: string, body: string): Promise<{ status: number; reply: { code?: string; message?: string } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, reply: (await response.json()) as { code?: string; message?: string } };
}

/** `count` header lines: Host and Connection first, fillers, and `last` as the final line. */
function headerLines(count: number, last: string): string[] {
  const lines = ['Host: localhost', 'Connection: close'];
  while (lines.length < count - 1) lines.push(`x-filler-${lines.length}: f`);
  lines.push(last);
  return lines;
}

describe('requests at the edges: header count, body size and nesting', () => {
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

  it('answers a JSON body past the parser\'s limit (100 KB) with 413 PAYLOAD_TOO_LARGE, not 500, also unsigned to a route that needs a signature', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(150_000) });
    expect(await postJson(`${running.url}/probe`, big)).toMatchObject({ status: 413, reply: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await postJson(`${running.url}/probe/signed`, big)).toMatchObject({ status: 413, reply: { code: 'PAYLOAD_TOO_LARGE' } });
    // The parser reads the body before the guard: refused for its size, never served.
    expect(await postJson(`${running.url}/probe/signed`, '{"name":"small"}')).toMatchObject({ status: 401, reply: { code: 'UNAUTHENTICATED' } });
  });

  it(`refuses a body nested past ${MAX_BODY_DEPTH} levels with 400, where the validation pipe used to overflow the stack (500)`, async () => {
    const deepArrays = '['.repeat(10_000) + ']'.repeat(10_000);
    const deepObjects = '{"name":'.repeat(3_000) + '"x"' + '}'.repeat(3_000);
    for (const body of [deepArrays, deepObjects]) {
      expect(await postJson(`${running.url}/probe`, body)).toMatchObject({ status: 400, reply: { code: 'INVALID_COMMAND', message: expect.stringContaining(String(MAX_BODY_DEPTH)) } });
    }
    expect(await postJson(`${running.url}/probe`, '{"name":"shallow"}')).toEqual({ status: 201, reply: { name: 'shallow' } });
  });

  it('refuses NUL in a path parameter, the query or a body with 400 (a Postgres query with one failed: 500)', async () => {
    for (const path of ['/probe/names/a%00b', '/probe/names/a?q=%00']) {
      const response = await fetch(`${running.url}${path}`);
      expect({ path, status: response.status, code: ((await response.json()) as { code: string }).code }).toEqual({ path, status: 400, code: 'INVALID_COMMAND' });
    }
    expect(await postJson(`${running.url}/probe`, '{"name":"a\\u0000b"}')).toMatchObject({ status: 400, reply: { code: 'INVALID_COMMAND', message: expect.stringContaining('NUL') } });
    expect(await (await fetch(`${running.url}/probe/names/a%01b?q=%C3%A9`)).json()).toEqual({ name: 'a\u0001b', q: 'é' });
  });
});
