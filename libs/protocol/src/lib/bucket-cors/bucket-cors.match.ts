import { CORS_METHODS, type CorsConfiguration, type CorsRule } from './bucket-cors.config';

/**
 * Matching a cross-origin request to a bucket's CORS rules, as S3 does: the first rule whose
 * AllowedOrigin matches the Origin (one `*` wildcard, case-sensitive), whose AllowedMethod holds
 * the method and — for a preflight — whose AllowedHeader entries (one `*`, case-insensitive)
 * cover every header in Access-Control-Request-Headers applies; its answer is the response headers.
 */

/** Vary on every answer a CORS rule shaped, so caches keep answers for different origins apart. */
export const CORS_VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

export interface CorsRequest {
  readonly origin: string;
  readonly method: string;
  /** For a preflight: the headers named in Access-Control-Request-Headers (any case). */
  readonly requestHeaders?: readonly string[];
}

/** `*` in the pattern matches any run of characters (possibly empty). */
export function corsWildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  if (tail.includes('*')) {
    // Stored rules carry at most one wildcard; anything else matches only literally.
    return pattern === value;
  }
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

/** Splits Access-Control-Request-Headers into names, lower-cased, empties dropped. */
export function parseCorsRequestHeaders(value: string | undefined): readonly string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

export function isCorsMethod(method: string): boolean {
  return (CORS_METHODS as readonly string[]).includes(method);
}

/** The first rule that applies to the request, or undefined. */
export function matchCorsRule(config: CorsConfiguration, request: CorsRequest): CorsRule | undefined {
  const requested = request.requestHeaders ?? [];
  return config.rules.find(
    (rule) =>
      rule.allowedOrigins.some((o) => corsWildcardMatch(o, request.origin)) &&
      (rule.allowedMethods as readonly string[]).includes(request.method) &&
      requested.every((h) => rule.allowedHeaders.some((a) => corsWildcardMatch(a.toLowerCase(), h))),
  );
}

/** Whether the rule let the request in through an AllowedOrigin of `*` alone (S3 then answers `*`, without credentials). */
function allowsAnyOrigin(rule: CorsRule): boolean {
  return rule.allowedOrigins.includes('*');
}

function originHeaders(rule: CorsRule, origin: string): Record<string, string> {
  return allowsAnyOrigin(rule)
    ? { 'Access-Control-Allow-Origin': '*' }
    : { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' };
}

/** The headers a preflight (OPTIONS) answer carries when `rule` matched it. */
export function corsPreflightHeaders(rule: CorsRule, request: CorsRequest): Record<string, string> {
  const requested = request.requestHeaders ?? [];
  return {
    ...originHeaders(rule, request.origin),
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    ...(requested.length > 0 ? { 'Access-Control-Allow-Headers': requested.join(', ') } : {}),
    ...(rule.exposeHeaders.length > 0 ? { 'Access-Control-Expose-Headers': rule.exposeHeaders.join(', ') } : {}),
    ...(rule.maxAgeSeconds !== undefined ? { 'Access-Control-Max-Age': String(rule.maxAgeSeconds) } : {}),
    Vary: CORS_VARY,
  };
}

/** The headers an actual request's answer carries when its Origin and method match `rule`. */
export function corsActualHeaders(rule: CorsRule, request: CorsRequest): Record<string, string> {
  return {
    ...originHeaders(rule, request.origin),
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    ...(rule.exposeHeaders.length > 0 ? { 'Access-Control-Expose-Headers': rule.exposeHeaders.join(', ') } : {}),
    ...(rule.maxAgeSeconds !== undefined ? { 'Access-Control-Max-Age': String(rule.maxAgeSeconds) } : {}),
    Vary: CORS_VARY,
  };
}
