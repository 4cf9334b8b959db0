import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Operator credentials for the admin APIs (CLI, dashboard, Prometheus): bearer tokens issued by the
 * root key or by anyone holding the cluster secret, checked by every service without a lookup.
 * `admin` may do anything an admin API offers; `read-only` may only read.
 */
export const OPERATOR_ROLES = ['admin', 'read-only'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export const OPERATOR_TOKEN_PREFIX = 'cairn-op.v1.';
export const DEFAULT_OPERATOR_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
export const MAX_OPERATOR_TOKEN_TTL_MS = 366 * 24 * 60 * 60 * 1000;

export interface OperatorTokenClaims {
  /** Random id, shown in logs instead of the token. */
  readonly id: string;
  readonly role: OperatorRole;
  /** Who or what it was issued for (free text, e.g. "prometheus" or "alice"). */
  readonly label: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(`${OPERATOR_TOKEN_PREFIX}${payload}`).digest();
}

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

export function mintOperatorToken(
  key: Buffer,
  request: { readonly role: OperatorRole; readonly label?: string; readonly ttlMs?: number },
  nowMs: number,
): { readonly token: string; readonly claims: OperatorTokenClaims } {
  const ttlMs = Math.min(Math.max(request.ttlMs ?? DEFAULT_OPERATOR_TOKEN_TTL_MS, 1_000), MAX_OPERATOR_TOKEN_TTL_MS);
  const claims: OperatorTokenClaims = {
    id: randomBytes(8).toString('hex'),
    role: request.role,
    label: (request.label ?? '').slice(0, 64),
    issuedAtMs: nowMs,
    expiresAtMs: nowMs + ttlMs,
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return { token: `${OPERATOR_TOKEN_PREFIX}${payload}.${mac(key, payload).toString('base64url')}`, claims };
}

export type OperatorTokenVerdict = { readonly ok: true; readonly claims: OperatorTokenClaims } | { readonly ok: false; readonly reason: string };

export function verifyOperatorToken(key: Buffer, token: string, nowMs: number): OperatorTokenVerdict {
  if (!token.startsWith(OPERATOR_TOKEN_PREFIX) || token.length > 1024) return { ok: false, reason: 'not an operator token' };
  const [payload, signature, ...rest] = token.slice(OPERATOR_TOKEN_PREFIX.length).split('.');
  if (!payload || !signature || rest.length) return { ok: false, reason: 'malformed operator token' };
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'operator token signature does not match' };
  let claims: OperatorTokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as OperatorTokenClaims;
  } catch {
    return { ok: false, reason: 'malformed operator token' };
  }
  if (!isOperatorRole(claims.role) || typeof claims.expiresAtMs !== 'number') return { ok: false, reason: 'malformed operator token' };
  if (claims.expiresAtMs <= nowMs) return { ok: false, reason: 'operator token expired' };
  return { ok: true, claims };
}
