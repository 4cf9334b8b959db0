import { createHash, createHmac } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';
import { CliError, ExitCodes } from '../domain/exit-codes';
import type { IssuedTokenWire } from '../domain/admin-api.types';
import type { S3Keys } from '../domain/settings';
import type { HttpTransport } from './http-transport';

/** Where the S3 gateway trades a root-key SigV4 signature for an operator token. */
export const S3_OPERATOR_TOKEN_PATH = '/_cairn/admin/tokens';
const PRESIGN_EXPIRES_SECONDS = 300;
/** S3 errors that mean the keys themselves are wrong or not allowed. */
const S3_AUTH_CODES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'RequestTimeTooSkewed']);

/** SHA-256 (or HMAC-SHA-256 with a secret) for the SigV4 signer, from node:crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

export interface TokenRequest {
  readonly role: string;
  readonly label: string;
  readonly ttlSeconds?: number;
}

/** POST /_cairn/admin/tokens on the S3 endpoint, presigned (SigV4, service s3) with the root key. */
export async function exchangeKeysForToken(http: HttpTransport, s3Endpoint: string, keys: S3Keys, wanted: TokenRequest): Promise<IssuedTokenWire> {
  const url = new URL(s3Endpoint);
  // Loaded only when keys are traded: commands with a token start without the signer.
  const { SignatureV4: Signer } = require('@smithy/signature-v4') as { SignatureV4: typeof SignatureV4 };
  const signer = new Signer({
    credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    region: keys.signingRegion,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const query: Record<string, string> = { role: wanted.role, label: wanted.label, ...(wanted.ttlSeconds !== undefined ? { ttlSeconds: String(wanted.ttlSeconds) } : {}) };
  const signed = await signer.presign(
    { method: 'POST', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: S3_OPERATOR_TOKEN_PATH, query, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { expiresIn: PRESIGN_EXPIRES_SECONDS },
  );
  const search = Object.entries(signed.query ?? {})
    .map(([name, value]) => (value === null ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`))
    .join('&');
  const reply = await http.send(`${url.origin}${S3_OPERATOR_TOKEN_PATH}?${search}`, { method: 'POST' });
  if (reply.status === 200) {
    try {
      return JSON.parse(reply.text) as IssuedTokenWire;
    } catch {
      throw new CliError(ExitCodes.failed, `the S3 endpoint ${url.origin} answered the token request with something that is not JSON`);
    }
  }
  const code = /<Code>([^<]*)<\/Code>/.exec(reply.text)?.[1] ?? `HTTP ${reply.status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(reply.text)?.[1] ?? reply.text.slice(0, 200);
  const auth = S3_AUTH_CODES.has(code) || reply.status === 401 || reply.status === 403;
  throw new CliError(auth ? ExitCodes.auth : ExitCodes.failed, `${code}: ${message} (trading S3 keys ${keys.accessKeyId} for an operator token at ${url.origin})`, code);
}
