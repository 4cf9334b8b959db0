import { S3Error } from '../errors/s3.errors';
import type { RequestTarget } from '../routing/request-target';
import type { AccessKeyLookup, AccessKeyRecord } from './access-key-lookup.port';
import { buildCanonicalRequest, buildStringToSign, type HeaderBag } from './canonical-request';
import { hmacSha256, SigningKeyCache, signaturesEqual } from './signing-key';
import {
  formatAmzDate,
  isPresignedQuery,
  parseAmzDate,
  parseAuthorizationHeader,
  parseCredential,
  parsePresignedQuery,
  scopeString,
  type CredentialScope,
  type HeaderSignatureParts,
  type PresignedSignatureParts,
} from './sigv4-credentials';
import {
  AMZ_SIGNATURE_PARAM,
  DEFAULT_S3_REGION,
  MAX_REQUEST_TIME_SKEW_MS,
  S3_SERVICE_NAME,
  SIGV4_ALGORITHM,
  SIGV4_TERMINATOR,
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_PAYLOAD_TRAILER,
  UNSIGNED_PAYLOAD,
} from './sigv4.constants';

const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
const MS_PER_SECOND = 1000;

export interface SignableRequest {
  readonly method: string;
  readonly target: RequestTarget;
  /** Lower-case header names (as Node gives them). */
  readonly headers: HeaderBag;
}

/** What the chunk decoder needs to verify chunk signatures chained from the seed signature. */
export interface ChunkSigningContext {
  readonly signingKey: Buffer;
  readonly amzDate: string;
  readonly scope: string;
  readonly seedSignature: string;
}

/** How the payload is protected, from `x-amz-content-sha256`. */
export type PayloadProtection =
  | { readonly kind: 'sha256'; readonly sha256Hex: string }
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'streaming-signed'; readonly trailer: boolean; readonly signing: ChunkSigningContext }
  | { readonly kind: 'streaming-unsigned-trailer' };

export interface AuthenticatedRequest {
  readonly accessKeyId: string;
  readonly owner: string;
  readonly isRoot: boolean;
  /** `anonymous`: an unsigned request, allowed only where a bucket policy allows everyone. */
  readonly via: 'header' | 'presigned' | 'anonymous';
  readonly payload: PayloadProtection;
}

/** The signing fields of a POST Object form (values as sent). */
export interface PostSignatureFields {
  readonly algorithm?: string;
  readonly credential?: string;
  readonly amzDate?: string;
  readonly signature?: string;
  /** The base64 policy document: the string that is signed. */
  readonly policy?: string;
}

/** The name an anonymous request acts under where S3 shows one (a multipart upload's initiator); never an owner. */
export const ANONYMOUS_OWNER = 'anonymous';

/** The caller of a request with neither an Authorization header nor a presigned query. */
export const ANONYMOUS_CALLER: AuthenticatedRequest = { accessKeyId: '', owner: ANONYMOUS_OWNER, isRoot: false, via: 'anonymous', payload: { kind: 'unsigned' } };

/** Whether a request carries no signature at all (SigV4Verifier.verify refuses it; the gateway may take it as anonymous). */
export function isAnonymousRequest(request: SignableRequest): boolean {
  return singleHeader(request.headers, 'authorization') === undefined && !isPresignedQuery(request.target.query);
}

export interface SigV4VerifierOptions {
  /**
   * The region this endpoint serves (CAIRN_S3_REGION): a signature scoped to any other is refused
   * as S3 refuses it, naming this one. There is no "accept any region" mode.
   */
  readonly region?: string;
  readonly maxSkewMs?: number;
  readonly signingKeyCache?: SigningKeyCache;
}

/**
 * Verifies AWS Signature Version 4 as S3 does, from the Authorization header or a presigned URL.
 * The clock is an argument so the verifier stays pure apart from the key lookup.
 */
export class SigV4Verifier {
  private readonly cache: SigningKeyCache;
  private readonly maxSkewMs: number;
  private readonly region: string;

  constructor(
    private readonly keys: AccessKeyLookup,
    private readonly options: SigV4VerifierOptions = {},
  ) {
    this.cache = options.signingKeyCache ?? new SigningKeyCache();
    this.maxSkewMs = options.maxSkewMs ?? MAX_REQUEST_TIME_SKEW_MS;
    this.region = options.region ?? DEFAULT_S3_REGION;
  }

  async verify(request: SignableRequest, nowMs: number): Promise<AuthenticatedRequest> {
    const authorization = singleHeader(request.headers, 'authorization');
    const presigned = isPresignedQuery(request.target.query);
    if (authorization !== undefined && presigned) {
      throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
    }
    if (authorization !== undefined) return this.verifyHeader(request, parseAuthorizationHeader(authorization), nowMs);
    if (presigned) return this.verifyPresigned(request, parsePresignedQuery(request.target.query), nowMs);
    throw new S3Error('AccessDenied', 'Anonymous access is not allowed.');
  }

  private async verifyHeader(request: SignableRequest, parts: HeaderSignatureParts, nowMs: number): Promise<AuthenticatedRequest> {
    this.checkScope(parts.credential, 'AuthorizationHeaderMalformed');
    checkSignedHeaders(request.headers, parts.signedHeaders);

    const amzDate = requestAmzDate(request.headers);
    if (amzDate.slice(0, 8) !== parts.credential.date) {
      throw new S3Error(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; Invalid credential date "${parts.credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
      );
    }
    const requestMs = parseAmzDate(amzDate) as number;
    if (Math.abs(nowMs - requestMs) > this.maxSkewMs) {
      throw new S3Error('RequestTimeTooSkewed', undefined, {
        RequestTime: amzDate,
        ServerTime: new Date(nowMs).toISOString(),
        MaxAllowedSkewMilliseconds: String(this.maxSkewMs),
      });
    }

    const payloadHash = singleHeader(request.headers, 'x-amz-content-sha256');
    if (payloadHash === undefined) {
      throw new S3Error('MissingSecurityHeader', 'Missing required header for this request: x-amz-content-sha256', {
        MissingHeaderName: 'x-amz-content-sha256',
      });
    }
    const payloadMarker = payloadHash.trim();
    if (!isKnownPayloadHash(payloadMarker)) {
      throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.');
    }

    const { key, signingKey, scope, signature } = await this.checkSignature(request, parts, payloadMarker, amzDate);
    return {
      accessKeyId: key.accessKeyId,
      owner: key.owner,
      isRoot: key.isRoot,
      via: 'header',
      payload: payloadProtection(payloadMarker, { signingKey, amzDate, scope, seedSignature: signature }),
    };
  }

  private async verifyPresigned(request: SignableRequest, parts: PresignedSignatureParts, nowMs: number): Promise<AuthenticatedRequest> {
    this.checkScope(parts.credential, 'AuthorizationQueryParametersError');
    if (!parts.signedHeaders.includes('host')) {
      throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-SignedHeaders must include the host header.');
    }
    if (parts.amzDate.slice(0, 8) !== parts.credential.date) {
      throw new S3Error('AuthorizationQueryParametersError', 'Invalid credential date. Date is not the same as X-Amz-Date.');
    }
    const signedAtMs = parseAmzDate(parts.amzDate) as number;
    if (signedAtMs - nowMs > this.maxSkewMs) {
      throw new S3Error('AccessDenied', 'Request is not valid yet', { 'X-Amz-Date': parts.amzDate, ServerTime: new Date(nowMs).toISOString() });
    }
    if (nowMs > signedAtMs + parts.expiresSeconds * MS_PER_SECOND) {
      throw new S3Error('AccessDenied', 'Request has expired', {
        'X-Amz-Expires': String(parts.expiresSeconds),
        Expires: new Date(signedAtMs + parts.expiresSeconds * MS_PER_SECOND).toISOString(),
        ServerTime: new Date(nowMs).toISOString(),
      });
    }
    const declaredHash = request.target.query.find((param) => param.name.toLowerCase() === 'x-amz-content-sha256')?.value;
    const payloadHash = declaredHash ?? UNSIGNED_PAYLOAD;
    if (payloadHash !== UNSIGNED_PAYLOAD && !SHA256_HEX_PATTERN.test(payloadHash)) {
      throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.');
    }

    const { key } = await this.checkSignature(request, parts, payloadHash, parts.amzDate);
    return {
      accessKeyId: key.accessKeyId,
      owner: key.owner,
      isRoot: key.isRoot,
      via: 'presigned',
      payload: payloadHash === UNSIGNED_PAYLOAD ? { kind: 'unsigned' } : { kind: 'sha256', sha256Hex: payloadHash },
    };
  }

  /**
   * A browser-based upload (POST Object): the signature is HMAC(signing key, the base64 policy),
   * from the form's x-amz-algorithm, x-amz-credential (scope checked as for presigned URLs) and
   * x-amz-date. The policy's own expiration bounds its lifetime, so no clock skew applies here.
   */
  async verifyPostPolicy(form: PostSignatureFields): Promise<AuthenticatedRequest> {
    if (form.algorithm !== SIGV4_ALGORITHM) {
      throw new S3Error('InvalidArgument', `x-amz-algorithm must be ${SIGV4_ALGORITHM}.`, { ArgumentName: 'x-amz-algorithm', ArgumentValue: form.algorithm ?? '' });
    }
    if (form.credential === undefined) throw new S3Error('InvalidArgument', 'POST requires the x-amz-credential field.', { ArgumentName: 'x-amz-credential' });
    if (form.amzDate === undefined || parseAmzDate(form.amzDate) === undefined) {
      throw new S3Error('InvalidArgument', 'POST requires a valid x-amz-date field.', { ArgumentName: 'x-amz-date', ArgumentValue: form.amzDate ?? '' });
    }
    if (form.signature === undefined || form.policy === undefined) {
      throw new S3Error('InvalidArgument', 'POST requires the policy and x-amz-signature fields.', { ArgumentName: form.policy === undefined ? 'policy' : 'x-amz-signature' });
    }
    const credential = parseCredential(form.credential, 'AuthorizationQueryParametersError');
    this.checkScope(credential, 'AuthorizationQueryParametersError');
    if (form.amzDate.slice(0, 8) !== credential.date) {
      throw new S3Error('AuthorizationQueryParametersError', 'Invalid credential date. Date is not the same as X-Amz-Date.');
    }
    const key = await this.findKey(credential.accessKeyId);
    const expected = hmacSha256(this.signingKeyFor(key, credential), form.policy).toString('hex');
    if (!signaturesEqual(expected, form.signature.trim().toLowerCase())) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: key.accessKeyId, StringToSign: form.policy });
    }
    return { accessKeyId: key.accessKeyId, owner: key.owner, isRoot: key.isRoot, via: 'header', payload: { kind: 'unsigned' } };
  }

  private checkScope(credential: CredentialScope, errorCode: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError'): void {
    const prefix = errorCode === 'AuthorizationHeaderMalformed' ? 'The authorization header is malformed; ' : 'Error parsing the X-Amz-Credential parameter; ';
    if (credential.service !== S3_SERVICE_NAME) {
      throw new S3Error(errorCode, `${prefix}incorrect service "${credential.service}". This endpoint belongs to "${S3_SERVICE_NAME}".`);
    }
    if (credential.terminator !== SIGV4_TERMINATOR) {
      throw new S3Error(errorCode, `${prefix}incorrect terminal "${credential.terminator}". This endpoint uses "${SIGV4_TERMINATOR}".`);
    }
    if (credential.region !== this.region) {
      throw new S3Error(errorCode, `${prefix}the region '${credential.region}' is wrong; expecting '${this.region}'`, { Region: this.region });
    }
  }

  /** The key the credential names, and the signature it must have made: a different one is SignatureDoesNotMatch. */
  private async checkSignature(request: SignableRequest, parts: HeaderSignatureParts | PresignedSignatureParts, payloadHash: string, amzDate: string) {
    const key = await this.findKey(parts.credential.accessKeyId);
    const signingKey = this.signingKeyFor(key, parts.credential);
    const scope = scopeString(parts.credential);
    const expected = this.expectedSignature(request, parts, payloadHash, amzDate, scope, signingKey);
    if (!signaturesEqual(expected.signature, parts.signature)) {
      throw signatureMismatch(key.accessKeyId, expected.stringToSign, expected.canonicalRequest);
    }
    return { key, signingKey, scope, signature: expected.signature };
  }

  private async findKey(accessKeyId: string): Promise<AccessKeyRecord> {
    const key = await this.keys.find(accessKeyId);
    if (!key) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
    return key;
  }

  private signingKeyFor(key: AccessKeyRecord, credential: CredentialScope): Buffer {
    return this.cache.get(key.accessKeyId, key.secretAccessKey, credential.date, credential.region, credential.service);
  }

  private expectedSignature(
    request: SignableRequest,
    parts: HeaderSignatureParts | PresignedSignatureParts,
    payloadHash: string,
    amzDate: string,
    scope: string,
    signingKey: Buffer,
  ): { readonly signature: string; readonly stringToSign: string; readonly canonicalRequest: string } {
    const query = parts.kind === 'presigned' ? request.target.query.filter((param) => param.name !== AMZ_SIGNATURE_PARAM) : request.target.query;
    const canonicalRequest = buildCanonicalRequest({
      method: request.method,
      path: request.target.path,
      query,
      headers: request.headers,
      signedHeaders: parts.signedHeaders,
      payloadHash,
    });
    const stringToSign = buildStringToSign(amzDate, scope, canonicalRequest);
    return { signature: hmacSha256(signingKey, stringToSign).toString('hex'), stringToSign, canonicalRequest };
  }
}

function singleHeader(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

/** The request time: x-amz-date, else the Date header (RFC 7231), as an ISO 8601 basic timestamp. */
function requestAmzDate(headers: HeaderBag): string {
  const amzDate = singleHeader(headers, 'x-amz-date');
  if (amzDate !== undefined) {
    if (parseAmzDate(amzDate.trim()) === undefined) throw missingDate();
    return amzDate.trim();
  }
  const date = singleHeader(headers, 'date');
  const ms = date === undefined ? Number.NaN : Date.parse(date);
  if (Number.isNaN(ms)) throw missingDate();
  return formatAmzDate(ms);
}

function missingDate(): S3Error {
  return new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}

/** Header auth must sign `host` and every `x-amz-*` header the request carries. */
function checkSignedHeaders(headers: HeaderBag, signedHeaders: readonly string[]): void {
  if (!signedHeaders.includes('host')) {
    throw new S3Error('AuthorizationHeaderMalformed', "The authorization header is malformed; 'host' must be a signed header.");
  }
  const signed = new Set(signedHeaders);
  const unsigned = Object.keys(headers).filter((name) => name.startsWith('x-amz-') && headers[name] !== undefined && !signed.has(name));
  if (unsigned.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.sort().join(', '),
    });
  }
}

function isKnownPayloadHash(value: string): boolean {
  return (
    value === UNSIGNED_PAYLOAD ||
    value === STREAMING_SIGNED_PAYLOAD ||
    value === STREAMING_SIGNED_PAYLOAD_TRAILER ||
    value === STREAMING_UNSIGNED_PAYLOAD_TRAILER ||
    SHA256_HEX_PATTERN.test(value)
  );
}

function payloadProtection(marker: string, signing: ChunkSigningContext): PayloadProtection {
  switch (marker) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED_PAYLOAD:
      return { kind: 'streaming-signed', trailer: false, signing };
    case STREAMING_SIGNED_PAYLOAD_TRAILER:
      return { kind: 'streaming-signed', trailer: true, signing };
    case STREAMING_UNSIGNED_PAYLOAD_TRAILER:
      return { kind: 'streaming-unsigned-trailer' };
    default:
      return { kind: 'sha256', sha256Hex: marker };
  }
}

function signatureMismatch(accessKeyId: string, stringToSign: string, canonicalRequest: string): S3Error {
  return new S3Error('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: accessKeyId,
    StringToSign: stringToSign,
    CanonicalRequest: canonicalRequest,
  });
}
