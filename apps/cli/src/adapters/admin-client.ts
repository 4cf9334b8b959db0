import type { Dispatcher } from 'undici';
import { CliError, ExitCodes, exitCodeForStatus } from '../domain/exit-codes';
import type { CliSettings, EndpointService } from '../domain/settings';
import { HttpTransport } from './http-transport';
import { exchangeKeysForToken } from './s3-token-exchange';

/** A token the CLI mints for itself from S3 keys lives this long: one command, with room to spare. */
export const SELF_ISSUED_TOKEN_TTL_SECONDS = 3600;

export interface CallOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
}

/**
 * The admin APIs of one region over HTTP, with the operator token as a Bearer credential. With no
 * token but S3 root keys, the first call trades the keys for a short-lived admin token.
 */
export class AdminClient {
  readonly http: HttpTransport;
  private token: Promise<string> | null = null;

  constructor(readonly settings: CliSettings) {
    this.http = new HttpTransport(settings.caFile);
  }

  /** The operator token the calls carry (minted from S3 keys when there is no token). */
  operatorToken(): Promise<string> {
    this.token ??= this.obtainToken();
    return this.token;
  }

  private async obtainToken(): Promise<string> {
    if (this.settings.operatorToken) return this.settings.operatorToken;
    if (this.settings.s3Keys) {
      const issued = await exchangeKeysForToken(this.http, this.settings.endpoints.access, this.settings.s3Keys, { role: 'admin', label: 'cairn cli', ttlSeconds: SELF_ISSUED_TOKEN_TTL_SECONDS });
      return issued.token;
    }
    throw new CliError(
      ExitCodes.auth,
      'no operator token: run `npm start` (it writes .cairn/profile.json), set CAIRN_OPERATOR_TOKEN, pass --profile <file>, or `cairn login --access-key … --secret-key …`',
    );
  }

  get<T>(service: EndpointService, path: string, options: CallOptions = {}): Promise<T> {
    return this.call<T>(service, 'GET', path, options);
  }

  post<T>(service: EndpointService, path: string, options: CallOptions = {}): Promise<T> {
    return this.call<T>(service, 'POST', path, options);
  }

  patch<T>(service: EndpointService, path: string, options: CallOptions = {}): Promise<T> {
    return this.call<T>(service, 'PATCH', path, options);
  }

  delete<T>(service: EndpointService, path: string, options: CallOptions = {}): Promise<T> {
    return this.call<T>(service, 'DELETE', path, options);
  }

  /** Like get, but a 404 (an API this region does not serve yet) is null rather than an error. */
  async getIfServed<T>(service: EndpointService, path: string): Promise<T | null> {
    try {
      return await this.get<T>(service, path);
    } catch (error) {
      if (error instanceof CliError && error.httpStatus === 404) return null;
      throw error;
    }
  }

  async call<T>(service: EndpointService, method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<T> {
    const base = this.settings.endpoints[service];
    const query = Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
    const url = `${base}${path}${query.length ? `?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}` : ''}`;
    const token = await this.operatorToken();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const reply = await this.http.send(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const parsed = parseJson(reply.text);
    if (reply.status >= 200 && reply.status < 300) return parsed as T;
    const err = (parsed && typeof parsed === 'object' ? parsed : {}) as { code?: unknown; message?: unknown };
    const code = typeof err.code === 'string' && err.code ? err.code : `HTTP ${reply.status}`;
    const message = typeof err.message === 'string' && err.message ? err.message : reply.text.slice(0, 200).replace(/\s+/g, ' ').trim() || 'no message';
    const hint = reply.status === 401 ? ' (is the operator token right and unexpired?)' : reply.status === 403 ? ' (the token’s role does not allow this)' : '';
    throw new CliError(exitCodeForStatus(reply.status), `${code}: ${message}${hint} [${service} ${method} ${path} → ${reply.status}]`, code, reply.status);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
