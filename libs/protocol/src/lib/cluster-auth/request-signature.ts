import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How one Cairn service proves to another that a request comes from inside the cluster: an
 * HMAC-SHA256, under a key derived from the cluster secret, over the method, the path and query as
 * sent, every `x-cairn-*` header (fencing tokens included), the body's SHA-256 and a timestamp
 * with a nonce. The receiver refuses a stale timestamp and a nonce it has seen.
 */
export const CLUSTER_AUTH_SCHEME = 'Cairn-HMAC-SHA256';
export const ClusterAuthHeaders = {
  Authorization: 'authorization',
  Date: 'x-cairn-date',
  Nonce: 'x-cairn-nonce',
  ContentSha256: 'x-cairn-content-sha256',
} as const;
/** Declared for a body the receiver's route verifies by itself (a chunk named by its content hash). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = createHash('sha256').digest('hex');
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;

const CALLER_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9._-]{1,64}$/;

export type HeaderValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface SignableRequest {
  readonly method: string;
  /** Path and query exactly as on the request line. */
  readonly pathAndQuery: string;
  /** Header names in lower case. */
  readonly headers: HeaderValues;
}

export interface ClusterCaller {
  /** `<service>/<instance>`, e.g. `scheduler/scheduler-1`. */
  readonly caller: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function headerText(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  return (typeof value === 'string' ? value : value.join(', ')).trim();
}

function signedHeaderLines(headers: HeaderValues): string {
  return Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name.startsWith('x-cairn-'))
    .sort()
    .map((name) => `${name}:${headerText(headers[name])}`)
    .join('\n');
}

export function requestStringToSign(request: SignableRequest, caller: string): string {
  return [
    CLUSTER_AUTH_SCHEME,
    caller,
    request.method.toUpperCase(),
    request.pathAndQuery,
    signedHeaderLines(request.headers),
    headerText(request.headers[ClusterAuthHeaders.ContentSha256]),
  ].join('\n');
}

function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/**
 * The headers to add to a request so a Cairn service accepts it. `body` is hashed when given as
 * bytes; a streamed body is declared UNSIGNED_PAYLOAD and only routes that verify their own payload
 * accept it.
 */
export function signRequest(
  key: Buffer,
  caller: string,
  request: { readonly method: string; readonly pathAndQuery: string; readonly headers?: HeaderValues; readonly body?: string | Uint8Array | 'unsigned' },
  nowMs: number,
): Record<string, string> {
  const contentSha256 = request.body === 'unsigned' ? UNSIGNED_PAYLOAD : request.body === undefined ? EMPTY_SHA256 : sha256Hex(request.body);
  const added: Record<string, string> = {
    [ClusterAuthHeaders.Date]: String(nowMs),
    [ClusterAuthHeaders.Nonce]: randomBytes(16).toString('hex'),
    [ClusterAuthHeaders.ContentSha256]: contentSha256,
  };
  const headers: Record<string, string | readonly string[] | undefined> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  Object.assign(headers, added);
  const signature = hmacHex(key, requestStringToSign({ method: request.method, pathAndQuery: request.pathAndQuery, headers }, caller));
  return { ...added, [ClusterAuthHeaders.Authorization]: `${CLUSTER_AUTH_SCHEME} Caller=${caller}, Signature=${signature}` };
}

export type RequestVerdict =
  | { readonly ok: true; readonly caller: string; readonly contentSha256: string; readonly nonce: string }
  | { readonly ok: false; readonly reason: string };

/** Whether an Authorization header is a cluster signature at all (so other schemes can be tried). */
export function isClusterAuthorization(authorization: string | undefined): boolean {
  return typeof authorization === 'string' && authorization.startsWith(`${CLUSTER_AUTH_SCHEME} `);
}

function safeEqualHex(expected: string, given: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
}

/**
 * Checks the signature and the timestamp of a request (pure: replay of the nonce and the body's
 * hash are the caller's to check, as only it has the seen nonces and the body).
 */
export function verifyRequestSignature(key: Buffer, request: SignableRequest, nowMs: number, maxSkewMs: number = DEFAULT_MAX_CLOCK_SKEW_MS): RequestVerdict {
  const authorization = headerText(request.headers[ClusterAuthHeaders.Authorization]);
  if (!isClusterAuthorization(authorization)) return { ok: false, reason: 'no cluster signature' };
  const match = /^Cairn-HMAC-SHA256 Caller=([^,\s]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!match || !CALLER_PATTERN.test(match[1])) return { ok: false, reason: 'malformed cluster signature' };
  const [, caller, signature] = match;
  const dateText = headerText(request.headers[ClusterAuthHeaders.Date]);
  const date = /^\d{1,16}$/.test(dateText) ? Number(dateText) : NaN;
  if (!Number.isFinite(date)) return { ok: false, reason: `missing or malformed ${ClusterAuthHeaders.Date}` };
  if (Math.abs(nowMs - date) > maxSkewMs) return { ok: false, reason: `request time is more than ${maxSkewMs} ms from the server's clock` };
  const nonce = headerText(request.headers[ClusterAuthHeaders.Nonce]);
  if (!/^[0-9a-f]{32}$/.test(nonce)) return { ok: false, reason: `missing or malformed ${ClusterAuthHeaders.Nonce}` };
  const contentSha256 = headerText(request.headers[ClusterAuthHeaders.ContentSha256]);
  if (contentSha256 !== UNSIGNED_PAYLOAD && !/^[0-9a-f]{64}$/.test(contentSha256)) return { ok: false, reason: `missing or malformed ${ClusterAuthHeaders.ContentSha256}` };
  const expected = hmacHex(key, requestStringToSign(request, caller));
  if (!safeEqualHex(expected, signature)) return { ok: false, reason: 'signature does not match' };
  return { ok: true, caller, contentSha256, nonce };
}
