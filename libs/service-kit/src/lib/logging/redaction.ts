import type { DestinationStream } from 'pino';

/** What a secret is replaced with in a log line. */
export const REDACTED = '[redacted]';

/** Known secret values shorter than this are not searched for: they would match ordinary text. */
export const MIN_KNOWN_SECRET_LENGTH = 8;

const UPPER_NAME = /^[A-Z0-9_]+$/;
const UPPER_SECRET = /SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|PRIVATE_KEY/;
const SECRET_WORD = /secret|password|passwd|passphrase|authorization|cookie|private[-_]?key|cairn-auth/;
/** `token`, `accessToken`, `x-amz-security-token`, `session_token`…, but not `fencingToken` or `tokenId`. */
const SECRET_TOKEN = /(?:^|[-_])(?:access|session|security|auth|bearer|operator|api|refresh|id)[-_]?token$/;

/**
 * Whether a field, header or variable of this name holds a secret: config variables whose name
 * has SECRET, PASSWORD or TOKEN in it (not the *_FILE ones, which hold a path), and the headers
 * and fields that carry credentials (authorization, cookie, x-amz-security-token, Cairn-Auth, a
 * password, a secret key, an access token).
 */
export function isSecretName(name: string): boolean {
  if (UPPER_NAME.test(name)) return UPPER_SECRET.test(name) && !name.endsWith('_FILE');
  const lower = name.toLowerCase();
  return SECRET_WORD.test(lower) || SECRET_TOKEN.test(lower.replace(/([a-z0-9])(?=token$)/, '$1_')) || lower === 'token';
}

/** The secret-looking values of a config object (fields named by isSecretName), for createLogger's `secrets`. */
export function secretConfigValues(config: object): string[] {
  return Object.entries(config)
    .filter(([name, value]) => isSecretName(name) && typeof value === 'string' && value.length >= MIN_KNOWN_SECRET_LENGTH)
    .map(([, value]) => value as string);
}

/** Cheap first look: a line with none of these has no pair to inspect by name. */
const SECRET_NAME_HINT = /secret|passw|passphrase|token|authorization|cookie|cairn-auth|private/i;
/** A `"name":"string value"` pair of a JSON line. */
const JSON_STRING_PAIR = /"((?:[^"\\]|\\.)*)":"((?:[^"\\]|\\.)*)"/g;

/** Secrets recognisable by their shape, wherever they appear (a message, a URL, an error's text). */
const SHAPED_SECRETS: readonly { readonly hint: string; readonly pattern: RegExp; readonly replacement: string }[] = [
  // scheme://user:password@host — the user stays.
  { hint: '://', pattern: /([a-z][a-z0-9+.-]*:\/\/)([^\s"'\\:@/?#]*):([^\s"'\\@/?#]+)@/gi, replacement: `$1$2:${REDACTED}@` },
  // nats://token@host — NATS takes a token as the URL's user.
  { hint: '://', pattern: /((?:nats|tls|ws|wss):\/\/)([^\s"'\\:@/?#]+)@/gi, replacement: `$1${REDACTED}@` },
  { hint: 'earer', pattern: /(\bBearer\s+)[^\s"'\\,;]+/gi, replacement: `$1${REDACTED}` },
  // Operator tokens: cairn-op.v1.<payload>.<mac>.
  { hint: 'cairn-op.', pattern: /cairn-op\.v1\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?/g, replacement: `cairn-op.v1.${REDACTED}` },
  // Cairn-HMAC-SHA256 …, Signature=<hex>; AWS4-HMAC-SHA256 …, Signature=<hex>; presigned ?X-Amz-Signature= and SigV2 ?Signature=.
  { hint: 'ignature=', pattern: /(\b(?:X-Amz-)?Signature=)[^\s"'\\,&;]+/gi, replacement: `$1${REDACTED}` },
  { hint: 'ecurity-', pattern: /(\bX-Amz-Security-Token=)[^\s"'\\&;]+/gi, replacement: `$1${REDACTED}` },
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Masks the secrets in one serialized JSON log line: values of fields named like secrets (at any
 * depth), secrets recognisable by shape (URL passwords, bearer and operator tokens, request
 * signatures) and any of `knownSecrets` (the cluster secret, passwords) wherever they occur.
 */
export function redactLogLine(line: string, knownSecrets: readonly string[] = []): string {
  let out = line;
  for (const secret of knownSecrets) {
    if (secret.length < MIN_KNOWN_SECRET_LENGTH) continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (out.includes(form)) out = out.replace(new RegExp(escapeRegExp(form), 'g'), REDACTED);
    }
  }
  if (SECRET_NAME_HINT.test(out)) {
    out = out.replace(JSON_STRING_PAIR, (pair, name: string) => (isSecretName(name) ? `"${name}":"${REDACTED}"` : pair));
  }
  for (const { hint, pattern, replacement } of SHAPED_SECRETS) {
    if (out.includes(hint)) out = out.replace(pattern, replacement);
  }
  return out;
}

/** A URL with the values of its secret query parameters (signatures, security tokens) masked. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  return (
    url.slice(0, query) +
    url.slice(query).replace(/([?&])([^=&#]+)=([^&#]*)/g, (pair, separator: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        /* a malformed name is judged as it is */
      }
      return isSecretName(decoded) || /^(x-amz-)?signature$/i.test(decoded) ? `${separator}${name}=${REDACTED}` : pair;
    })
  );
}

/** A pino destination that masks every line (redactLogLine) before `target` writes it. */
export function redactingDestination(target: DestinationStream, knownSecrets: readonly string[] = []): DestinationStream & { flush(cb?: (error?: Error) => void): void } {
  const secrets = knownSecrets.filter((s) => s.length >= MIN_KNOWN_SECRET_LENGTH);
  return {
    write: (line: string) => target.write(redactLogLine(line, secrets)),
    flush: (cb?: (error?: Error) => void) => {
      const flushable = target as DestinationStream & { flush?: (cb?: (error?: Error) => void) => void };
      if (typeof flushable.flush === 'function') flushable.flush(cb);
      else cb?.();
    },
  };
}
