/**
 * A bucket's CORS configuration as S3 takes it (PutBucketCors): up to 100 rules, each with an
 * optional ID, AllowedMethod (GET, PUT, POST, DELETE, HEAD), AllowedOrigin (at most one `*`
 * each), AllowedHeader (at most one `*` each), ExposeHeader (no wildcard) and MaxAgeSeconds.
 * The gateway parses the XML into these shapes; this module validates them with S3's codes and
 * messages, and metadata validates again before storing, so a bad configuration is never stored.
 */

export const CORS_MAX_RULES = 100;
/** S3 takes a CORS configuration of up to 64 KB. */
export const CORS_CONFIGURATION_MAX_BYTES = 64 * 1024;
export const CORS_RULE_ID_MAX_CHARS = 255;
export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

export interface CorsRule {
  readonly id?: string;
  readonly allowedMethods: readonly CorsMethod[];
  readonly allowedOrigins: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds?: number;
}

export interface CorsConfiguration {
  readonly rules: readonly CorsRule[];
}

export type BucketCorsErrorCode = 'MalformedXML' | 'InvalidRequest';

export const CORS_MALFORMED_XML_MESSAGE = 'The XML you provided was not well-formed or did not validate against our published schema';

export class BucketCorsError extends Error {
  constructor(
    readonly code: BucketCorsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BucketCorsError';
  }
}

const malformed = () => new BucketCorsError('MalformedXML', CORS_MALFORMED_XML_MESSAGE);
const isMethod = (m: string): m is CorsMethod => (CORS_METHODS as readonly string[]).includes(m);
const wildcards = (s: string) => s.split('*').length - 1;
const isStringArray = (v: unknown): v is readonly string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
/** What an XML element's text may hold here: printable, no control characters. */
const TEXT_PATTERN = { test: (text: string) => ![...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) };

/**
 * Checks a configuration (as parsed from XML, or as stored) and returns it typed; throws
 * BucketCorsError with S3's code and message otherwise.
 */
export function validateCorsConfiguration(input: unknown): CorsConfiguration {
  if (typeof input !== 'object' || input === null) throw malformed();
  const rules = (input as { rules?: unknown }).rules;
  if (!Array.isArray(rules) || rules.length === 0 || rules.length > CORS_MAX_RULES) throw malformed();
  return { rules: rules.map(validateRule) };
}

function validateRule(input: unknown): CorsRule {
  if (typeof input !== 'object' || input === null) throw malformed();
  const r = input as Record<string, unknown>;
  const { allowedMethods, allowedOrigins } = r;
  const allowedHeaders = r['allowedHeaders'] ?? [];
  const exposeHeaders = r['exposeHeaders'] ?? [];
  if (!isStringArray(allowedMethods) || !isStringArray(allowedOrigins) || !isStringArray(allowedHeaders) || !isStringArray(exposeHeaders)) throw malformed();
  if (allowedMethods.length === 0 || allowedOrigins.length === 0) throw malformed();
  for (const text of [...allowedMethods, ...allowedOrigins, ...allowedHeaders, ...exposeHeaders]) if (!TEXT_PATTERN.test(text)) throw malformed();
  for (const method of allowedMethods) {
    if (!isMethod(method)) throw new BucketCorsError('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`);
  }
  for (const origin of allowedOrigins) {
    if (wildcards(origin) > 1) throw new BucketCorsError('InvalidRequest', `AllowedOrigin "${origin}" can not have more than one wildcard.`);
  }
  for (const header of allowedHeaders) {
    if (wildcards(header) > 1) throw new BucketCorsError('InvalidRequest', `AllowedHeader "${header}" can not have more than one wildcard.`);
  }
  for (const header of exposeHeaders) {
    if (header.includes('*')) throw new BucketCorsError('InvalidRequest', `ExposeHeader "${header}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
  }
  const id = r['id'];
  if (id !== undefined && (typeof id !== 'string' || [...id].length > CORS_RULE_ID_MAX_CHARS || !TEXT_PATTERN.test(id))) throw malformed();
  const maxAge = r['maxAgeSeconds'];
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge < 0)) throw malformed();
  return {
    ...(id !== undefined ? { id } : {}),
    allowedMethods: [...(allowedMethods as readonly CorsMethod[])],
    allowedOrigins: [...allowedOrigins],
    allowedHeaders: [...allowedHeaders],
    exposeHeaders: [...exposeHeaders],
    ...(maxAge !== undefined ? { maxAgeSeconds: maxAge } : {}),
  };
}

/** The problem with a configuration (S3's code and message), or null when it is valid. */
export function bucketCorsProblem(input: unknown): { readonly code: BucketCorsErrorCode; readonly message: string } | null {
  try {
    validateCorsConfiguration(input);
    return null;
  } catch (error) {
    if (error instanceof BucketCorsError) return { code: error.code, message: error.message };
    throw error;
  }
}
