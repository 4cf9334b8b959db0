import * as http from 'node:http';
import { FaultProxy, FaultProxyError, isLoopbackHost } from './fault-proxy';

/**
 * The fault proxy's control API, plain HTTP and JSON, meant for loopback only (it is a
 * development and test tool: whoever reaches it can partition the regions):
 *
 *   GET  /links                          every link with its faults and counters
 *   GET  /links/<name>
 *   POST /links/<name>/cut               reset its open connections, refuse new ones
 *   POST /links/<name>/heal              accept connections again
 *   POST /links/<name>/latency    {"ms": 200}
 *   POST /links/<name>/throttle   {"bytesPerSecond": 65536}   (0: no limit)
 *   POST /links/<name>/reset             no faults at all
 *   POST /reset                          every link without faults
 *   GET  /health
 */
export const MAX_CONTROL_BODY_BYTES = 4096;

export interface ControlServerOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** As FaultProxyOptions.allowNonLoopback: the container layout listens on every interface. */
  readonly allowNonLoopback?: boolean;
}

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_CONTROL_BODY_BYTES) throw new HttpError(413, 'BODY_TOO_LARGE', `a request body is at most ${MAX_CONTROL_BODY_BYTES} bytes`);
  }
  if (!body.trim()) return {};
  try {
    const value: unknown = JSON.parse(body);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* answered below */
  }
  throw new HttpError(400, 'INVALID_BODY', 'the body must be a JSON object');
}

function numberField(body: Record<string, unknown>, field: string): number {
  const value = body[field] ?? (field === 'bytesPerSecond' && body[field] === null ? 0 : undefined);
  if (typeof value !== 'number') throw new HttpError(400, 'INVALID_BODY', `the body must be {"${field}": <number>}`);
  return value;
}

async function route(proxy: FaultProxy, req: http.IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://control');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/health') return { status: 'ok' };
  if (method === 'GET' && url.pathname === '/links') return { links: proxy.list() };
  if (method === 'POST' && url.pathname === '/reset') return { links: proxy.list().map((l) => proxy.reset(l.name)) };
  if (parts[0] === 'links' && parts.length === 2 && method === 'GET') return proxy.status(parts[1]);
  if (parts[0] === 'links' && parts.length === 3 && method === 'POST') {
    const [, name, action] = parts;
    switch (action) {
      case 'cut':
        return proxy.cut(name);
      case 'heal':
        return proxy.heal(name);
      case 'reset':
        return proxy.reset(name);
      case 'latency':
        return proxy.setLatency(name, numberField(await readJson(req), 'ms'));
      case 'throttle':
        return proxy.setThrottle(name, numberField(await readJson(req), 'bytesPerSecond'));
    }
  }
  throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`);
}

export async function startControlServer(proxy: FaultProxy, options: ControlServerOptions): Promise<ControlServer> {
  const host = options.host ?? '127.0.0.1';
  if (!options.allowNonLoopback && !isLoopbackHost(host)) throw new FaultProxyError('INVALID_LINK', `the control API listens on loopback only, not ${host}`);
  const server = http.createServer((req, res) => {
    const answer = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(value)}\n`);
    };
    route(proxy, req).then(
      (value) => answer(200, value),
      (error: unknown) => {
        if (error instanceof HttpError) return answer(error.status, { code: error.code, message: error.message });
        if (error instanceof FaultProxyError) return answer(error.code === 'NO_SUCH_LINK' ? 404 : 400, { code: error.code, message: error.message });
        answer(500, { code: 'INTERNAL', message: String(error) });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
