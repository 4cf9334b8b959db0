import { S3Error } from '../errors/s3.errors';
import { hasQueryParam, queryValue, type QueryParam } from '../routing/request-target';
import {
  AMZ_ALGORITHM_PARAM,
  AMZ_CREDENTIAL_PARAM,
  AMZ_DATE_PARAM,
  AMZ_EXPIRES_PARAM,
  AMZ_SIGNATURE_PARAM,
  AMZ_SIGNED_HEADERS_PARAM,
  MAX_AUTHORIZATION_HEADER_LENGTH_BYTES,
  MAX_PRESIGNED_EXPIRES_SECONDS,
  MIN_PRESIGNED_EXPIRES_SECONDS,
  MAX_SIGNED_HEADERS,
  SIGV2_ACCESS_KEY_PARAM,
  SIGV4_ALGORITHM,
} from './sigv4.constants';

/** `<access key>/<yyyymmdd>/<region>/<service>/aws4_request` */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
}

export function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/${scope.terminator}`;
}

export interface HeaderSignatureParts {
  readonly kind: 'header';
  readonly credential: CredentialScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export interface PresignedSignatureParts {
  readonly kind: 'presigned';
  readonly credential: CredentialScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly expiresSeconds: number;
}

const AMZ_DATE_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNED_HEADER_NAME_PATTERN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const CREDENTIAL_SCOPE_PARTS = 5;

type AuthErrorCode = 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError';

/** What S3 answers (400 InvalidRequest) to a Signature Version 2 header or query in a region that takes only SigV4. */
function unsupportedAuthMechanism(): S3Error {
  return new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
}

export function parseCredential(value: string, errorCode: AuthErrorCode): CredentialScope {
  const parts = value.split('/');
  if (parts.length < CREDENTIAL_SCOPE_PARTS) {
    throw new S3Error(
      errorCode,
      errorCode === 'AuthorizationHeaderMalformed'
        ? "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
        : 'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  // Access key ids could in principle hold '/', so the scope is read from the right.
  const [date, region, service, terminator] = parts.slice(-4);
  const accessKeyId = parts.slice(0, -4).join('/');
  if (accessKeyId === '' || !/^\d{8}$/.test(date) || region === '') {
    throw new S3Error(errorCode, `The credential scope is malformed: ${value}`);
  }
  return { accessKeyId, date, region, service, terminator };
}

function parseSignedHeaders(value: string, errorCode: AuthErrorCode): readonly string[] {
  const names = value.split(';');
  if (names.length > MAX_SIGNED_HEADERS || names.some((name) => !SIGNED_HEADER_NAME_PATTERN.test(name))) {
    throw new S3Error(errorCode, 'The SignedHeaders list is malformed.');
  }
  return names;
}

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export function parseAuthorizationHeader(header: string): HeaderSignatureParts {
  if (header.length > MAX_AUTHORIZATION_HEADER_LENGTH_BYTES) {
    throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is too long.');
  }
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) throw unsupportedAuthMechanism();
  const fields = new Map<string, string>();
  for (const component of trimmed.slice(space + 1).split(',')) {
    const part = component.trim();
    const equals = part.indexOf('=');
    if (equals <= 0) throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; '${part}' is not a key=value pair.`);
    const name = part.slice(0, equals);
    if (fields.has(name)) throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${name} appears twice.`);
    fields.set(name, part.slice(equals + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined || fields.size !== 3) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; it must hold exactly Credential, SignedHeaders and Signature.',
    );
  }
  return {
    kind: 'header',
    credential: parseCredential(credential, 'AuthorizationHeaderMalformed'),
    signedHeaders: parseSignedHeaders(signedHeaders, 'AuthorizationHeaderMalformed'),
    signature,
  };
}

/**
 * Whether the query signs the request: SigV4's X-Amz-* parameters, or a Signature Version 2 URL
 * (`?AWSAccessKeyId=…&Signature=…&Expires=…`, what the aws CLI v1's `s3 presign` and `s3cmd signurl`
 * make by default). The latter is a signed request too, never an anonymous one: it is refused as
 * S3 refuses it, not evaluated against the bucket policy as principal `*`.
 */
export function isPresignedQuery(query: readonly QueryParam[]): boolean {
  return (
    hasQueryParam(query, AMZ_ALGORITHM_PARAM) ||
    hasQueryParam(query, AMZ_SIGNATURE_PARAM) ||
    hasQueryParam(query, AMZ_CREDENTIAL_PARAM) ||
    hasQueryParam(query, SIGV2_ACCESS_KEY_PARAM)
  );
}

/** Parses the X-Amz-* parameters of a presigned URL; a Signature Version 2 one is InvalidRequest, as S3 answers it. */
export function parsePresignedQuery(query: readonly QueryParam[]): PresignedSignatureParts {
  if (!hasQueryParam(query, AMZ_ALGORITHM_PARAM) && hasQueryParam(query, SIGV2_ACCESS_KEY_PARAM)) throw unsupportedAuthMechanism();
  const required = [AMZ_ALGORITHM_PARAM, AMZ_CREDENTIAL_PARAM, AMZ_DATE_PARAM, AMZ_EXPIRES_PARAM, AMZ_SIGNED_HEADERS_PARAM, AMZ_SIGNATURE_PARAM];
  for (const name of required) {
    if (query.filter((param) => param.name === name).length !== 1) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters (${name} is missing or repeated).`,
      );
    }
  }
  const get = (name: string): string => queryValue(query, name) as string;
  if (get(AMZ_ALGORITHM_PARAM) !== SIGV4_ALGORITHM) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const amzDate = get(AMZ_DATE_PARAM);
  if (parseAmzDate(amzDate) === undefined) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  }
  const expiresText = get(AMZ_EXPIRES_PARAM);
  const expiresSeconds = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (!Number.isInteger(expiresSeconds)) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  }
  if (expiresSeconds < MIN_PRESIGNED_EXPIRES_SECONDS) {
    throw new S3Error('AuthorizationQueryParametersError', `X-Amz-Expires must be at least ${MIN_PRESIGNED_EXPIRES_SECONDS} second`);
  }
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new S3Error('AuthorizationQueryParametersError', `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`);
  }
  return {
    kind: 'presigned',
    credential: parseCredential(get(AMZ_CREDENTIAL_PARAM), 'AuthorizationQueryParametersError'),
    signedHeaders: parseSignedHeaders(get(AMZ_SIGNED_HEADERS_PARAM), 'AuthorizationQueryParametersError'),
    signature: get(AMZ_SIGNATURE_PARAM),
    amzDate,
    expiresSeconds,
  };
}

/** `20130524T000000Z` → epoch ms, or undefined if it is not a valid ISO 8601 basic timestamp. */
export function parseAmzDate(text: string): number | undefined {
  const match = AMZ_DATE_PATTERN.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return ms;
}

export function formatAmzDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
