import { Sha256 } from '@aws-crypto/sha256-js';
import { buildQueryString, escapeUri } from '@smithy/core/protocols';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseRequestTarget } from '../routing/request-target';
import type { SignableRequest } from './sigv4-verifier';

/**
 * Test helper: signs requests with the AWS SDK's own signer and turns the result into what the
 * gateway receives (a request target string and lower-case headers), so the verifier is checked
 * against real client output rather than against itself.
 */
export interface TestRequest {
  readonly method: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly host?: string;
}

export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region?: string;
}

/** The S3 client encodes each key segment with escapeUri and keeps '/' (uriEscapePath is off for S3). */
function s3Path(bucket: string | undefined, key: string | undefined): string {
  let path = '/';
  if (bucket !== undefined) path += escapeUri(bucket);
  if (key !== undefined) path += '/' + key.split('/').map(escapeUri).join('/');
  return path;
}

function toHttpRequest(request: TestRequest): HttpRequest {
  const host = request.host ?? 'localhost:9000';
  return new HttpRequest({
    method: request.method,
    protocol: 'http:',
    hostname: host.split(':')[0],
    port: host.includes(':') ? Number(host.split(':')[1]) : undefined,
    path: s3Path(request.bucket, request.key),
    query: request.query ?? {},
    headers: { host, ...(request.headers ?? {}) },
  });
}

function toSignable(signed: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> }): SignableRequest {
  const queryString = buildQueryString((signed.query ?? {}) as Record<string, string | string[] | null>);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  return { method: signed.method, target: parseRequestTarget(signed.path + (queryString ? `?${queryString}` : '')), headers };
}

function signer(credentials: TestCredentials): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    region: credentials.region ?? 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

export async function signWithSdk(credentials: TestCredentials, request: TestRequest, signingDate: Date): Promise<SignableRequest> {
  const signed = await signer(credentials).sign(toHttpRequest(request), { signingDate });
  return toSignable(signed as unknown as Parameters<typeof toSignable>[0]);
}

/** Presigns the way @aws-sdk/s3-request-presigner does: UNSIGNED-PAYLOAD, content-type unsigned. */
export async function presignWithSdk(
  credentials: TestCredentials,
  request: TestRequest,
  signingDate: Date,
  expiresInSeconds: number,
): Promise<SignableRequest> {
  const httpRequest = toHttpRequest(request);
  httpRequest.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const presigned = await signer(credentials).presign(httpRequest, {
    signingDate,
    expiresIn: expiresInSeconds,
    unsignableHeaders: new Set(['content-type']),
  });
  return toSignable(presigned as unknown as Parameters<typeof toSignable>[0]);
}
