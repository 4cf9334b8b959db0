/** Operator tokens read `cairn-op.v1.<base64url claims>.<mac>`; the claims are not secret, only the whole token is. */
export const OPERATOR_TOKEN_PREFIX = 'cairn-op.v1.';

export interface TokenClaims {
  readonly id: string;
  readonly role: string;
  readonly label: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

/** The claims a token carries (unverified: only the services can check its signature); null if it is not a token. */
export function readTokenClaims(token: string): TokenClaims | null {
  if (!token.startsWith(OPERATOR_TOKEN_PREFIX)) return null;
  const [payload] = token.slice(OPERATOR_TOKEN_PREFIX.length).split('.');
  try {
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Partial<TokenClaims>;
    if (typeof claims.role !== 'string' || typeof claims.expiresAtMs !== 'number') return null;
    return { id: String(claims.id ?? ''), role: claims.role, label: String(claims.label ?? ''), issuedAtMs: Number(claims.issuedAtMs ?? 0), expiresAtMs: claims.expiresAtMs };
  } catch {
    return null;
  }
}
