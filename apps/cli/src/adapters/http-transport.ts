import * as fs from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import { CliError, ExitCodes } from '../domain/exit-codes';

/** An admin call that has not answered by then is reported as unreachable; the rebalance planner reads every chunk reference, so it is generous. */
export const ADMIN_REQUEST_TIMEOUT_MS = 120_000;
export const CONNECT_TIMEOUT_MS = 5_000;

/** Errors of the connection itself: the endpoint is not there, not reachable, or not who it should be. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export interface HttpReply {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
}

/** undici with the region's CA (for https endpoints signed by a private CA) and bounded waits. */
export class HttpTransport {
  private readonly dispatcher: Dispatcher;

  constructor(caFile: string | null) {
    let ca: Buffer | undefined;
    if (caFile) {
      try {
        ca = fs.readFileSync(caFile);
      } catch (error) {
        throw new CliError(ExitCodes.usage, `cannot read the CA file ${caFile}: ${(error as Error).message}`);
      }
    }
    this.dispatcher = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS, ...(ca ? { ca } : {}) }, headersTimeout: ADMIN_REQUEST_TIMEOUT_MS, bodyTimeout: ADMIN_REQUEST_TIMEOUT_MS });
  }

  async send(url: string, init: { method: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string }): Promise<HttpReply> {
    try {
      const res = await request(url, { method: init.method, headers: init.headers, body: init.body, dispatcher: this.dispatcher });
      const text = await res.body.text();
      const contentType = res.headers['content-type'];
      return { status: res.statusCode, text, contentType: Array.isArray(contentType) ? contentType[0]! : (contentType ?? '') };
    } catch (error) {
      throw unreachable(url, error);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function unreachable(url: string, error: unknown): CliError {
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code;
  const origin = (() => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  })();
  const reason = code && UNREACHABLE_CODES.has(code) ? `${code}${err.message && !err.message.includes(code) ? ` (${err.message})` : ''}` : (err.message ?? String(error));
  return new CliError(ExitCodes.unreachable, `cannot reach ${origin}: ${reason}`);
}
