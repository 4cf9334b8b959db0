import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import type { MessageAuthenticator } from '@cairn/messaging';
import {
  ClusterKeys,
  isClusterAuthorization,
  mintOperatorToken,
  DEFAULT_MESSAGE_SIGNATURE_VERSION,
  ReplayWindow,
  signMessage,
  signRequest,
  verifyMessage,
  verifyOperatorToken,
  verifyRequestSignature,
  type HeaderValues,
  type MessageSignatureVersion,
  type MessageVerdict,
  type OperatorRole,
  type OperatorTokenVerdict,
  type RequestVerdict,
  type SignableRequest,
} from '@cairn/protocol';
import { ConfigError, type BaseServiceConfig } from '../config/service-config';

/** The cluster secret from CAIRN_CLUSTER_SECRET or the file CAIRN_CLUSTER_SECRET_FILE names. */
export function resolveClusterSecret(config: Pick<BaseServiceConfig, 'CAIRN_CLUSTER_SECRET' | 'CAIRN_CLUSTER_SECRET_FILE'>): string {
  if (config.CAIRN_CLUSTER_SECRET) return config.CAIRN_CLUSTER_SECRET;
  if (config.CAIRN_CLUSTER_SECRET_FILE) {
    let text: string;
    try {
      text = readFileSync(config.CAIRN_CLUSTER_SECRET_FILE, 'utf8').trim();
    } catch (error) {
      throw new ConfigError([`CAIRN_CLUSTER_SECRET_FILE is "${config.CAIRN_CLUSTER_SECRET_FILE}": cannot be read (${(error as Error).message})`]);
    }
    if (text.length < 32) throw new ConfigError([`CAIRN_CLUSTER_SECRET_FILE is "${config.CAIRN_CLUSTER_SECRET_FILE}": must hold at least 32 characters`]);
    return text;
  }
  throw new ConfigError([
    'CAIRN_CLUSTER_SECRET is missing: set it (or CAIRN_CLUSTER_SECRET_FILE) to the same random value of at least 32 characters on every service of the cluster (openssl rand -base64 32); `npm start` generates one for development',
  ]);
}

/**
 * This service's identity inside the cluster: signs what it sends to other services (HTTP and
 * NATS) and checks what they send to it, remembering nonces so a captured request cannot be
 * replayed. One per process.
 */
export class ClusterCredentials implements MessageAuthenticator {
  private readonly httpReplays: ReplayWindow;
  private readonly messageReplays: ReplayWindow;

  constructor(
    readonly keys: ClusterKeys,
    /** `<service>/<instance>`. */
    readonly caller: string,
    readonly maxSkewMs: number,
    private readonly now: () => number = Date.now,
    /** The format of the NATS signatures this service makes; it verifies every format. */
    private readonly messageSignatureVersion: MessageSignatureVersion = DEFAULT_MESSAGE_SIGNATURE_VERSION,
  ) {
    // A nonce must be remembered for as long as its timestamp is acceptable: 2 × the skew.
    this.httpReplays = new ReplayWindow(2 * maxSkewMs, now);
    this.messageReplays = new ReplayWindow(2 * maxSkewMs, now);
  }

  static fromConfig(config: BaseServiceConfig, caller: string): ClusterCredentials {
    return new ClusterCredentials(
      new ClusterKeys(resolveClusterSecret(config)),
      caller,
      config.CAIRN_AUTH_MAX_SKEW_MS,
      Date.now,
      config.CAIRN_MESSAGE_SIGNATURE_VERSION ?? DEFAULT_MESSAGE_SIGNATURE_VERSION,
    );
  }

  /** Headers that make an HTTP request acceptable to another Cairn service. */
  signHttp(request: { readonly method: string; readonly pathAndQuery: string; readonly headers?: HeaderValues; readonly body?: string | Uint8Array | 'unsigned' }): Record<string, string> {
    return signRequest(this.keys.key('internal-http'), this.caller, request, this.now());
  }

  /** Checks a request's signature and time; with `trackNonce`, refuses a nonce already seen. */
  verifyHttp(request: SignableRequest, options: { readonly trackNonce: boolean }): RequestVerdict {
    const verdict = verifyRequestSignature(this.keys.key('internal-http'), request, this.now(), this.maxSkewMs);
    if (verdict.ok && options.trackNonce && !this.httpReplays.firstUse(verdict.nonce)) return { ok: false, reason: 'request replayed (nonce already used)' };
    return verdict;
  }

  sign(subject: string, payload: Uint8Array): string {
    return signMessage(this.keys.key('internal-nats'), this.caller, subject, payload, this.now(), this.messageSignatureVersion);
  }

  verify(header: string | undefined, subject: string, payload: Uint8Array): MessageVerdict {
    const verdict = verifyMessage(this.keys.key('internal-nats'), header, subject, payload, this.now(), this.maxSkewMs);
    if (verdict.ok && !this.messageReplays.firstUse(verdict.nonce)) return { ok: false, reason: 'message replayed (nonce already used)' };
    return verdict;
  }

  mintOperatorToken(request: { readonly role: OperatorRole; readonly label?: string; readonly ttlMs?: number }) {
    return mintOperatorToken(this.keys.key('operator-tokens'), request, this.now());
  }

  verifyOperatorToken(token: string): OperatorTokenVerdict {
    return verifyOperatorToken(this.keys.key('operator-tokens'), token, this.now());
  }

  /**
   * An undici interceptor that signs every request a dispatcher sends: bodies given as bytes are
   * hashed, streamed ones go UNSIGNED_PAYLOAD (only routes that verify their own payload take them).
   */
  httpInterceptor(): Dispatcher.DispatcherComposeInterceptor {
    return (dispatch) => (options, handler) => {
      const headers = normaliseDispatchHeaders(options.headers);
      if (!isClusterAuthorization(headers['authorization'])) {
        const body = options.body;
        const signed =
          body === undefined || body === null
            ? undefined
            : typeof body === 'string' || body instanceof Uint8Array
              ? body
              : ('unsigned' as const);
        Object.assign(headers, this.signHttp({ method: options.method, pathAndQuery: options.path, headers, body: signed }));
      }
      return dispatch({ ...options, headers }, handler);
    };
  }
}

/** undici's request headers (array, iterable or object) as one lower-cased object. */
export function normaliseDispatchHeaders(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) out[String(headers[i]).toLowerCase()] = String(headers[i + 1]);
    return out;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function' && !(headers as object).constructor?.name?.startsWith('Object')) {
    for (const [name, value] of headers as Iterable<[string, string]>) out[name.toLowerCase()] = String(value);
    return out;
  }
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
