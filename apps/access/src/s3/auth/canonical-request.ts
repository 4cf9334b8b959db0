import { createHash } from 'node:crypto';
import type { QueryParam } from '../routing/request-target';
import { awsUriEncode } from './aws-uri-encode';
import { SIGV4_ALGORITHM } from './sigv4.constants';

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface CanonicalRequestInput {
  readonly method: string;
  /** The decoded path; re-encoded with AWS's UriEncode exactly once (S3 does not double-encode). */
  readonly path: string;
  /** Decoded query parameters, excluding X-Amz-Signature for presigned requests. */
  readonly query: readonly QueryParam[];
  /** Lower-case header names as the request carries them. */
  readonly headers: HeaderBag;
  /** Lower-case names in the order the client listed them in SignedHeaders. */
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
}

/** Header values are trimmed and inner runs of whitespace collapsed; repeated headers join with ','. */
export function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  const values = typeof value === 'string' ? [value] : value;
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

export function canonicalQueryString(query: readonly QueryParam[]): string {
  return query
    .map((param) => [awsUriEncode(param.name, false), awsUriEncode(param.value, false)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => compareCodeUnits(nameA, nameB) || compareCodeUnits(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function canonicalUri(path: string): string {
  return path === '' ? '/' : awsUriEncode(path, true);
}

export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  const headerLines = input.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(input.headers[name])}\n`).join('');
  return [
    input.method.toUpperCase(),
    canonicalUri(input.path),
    canonicalQueryString(input.query),
    headerLines,
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function buildStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}
