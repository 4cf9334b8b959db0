import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_MAX_CLOCK_SKEW_MS, sha256Hex } from './request-signature';

/**
 * The same proof for NATS messages (RPC requests, heartbeats, lock and Raft traffic): one header,
 * `Cairn-Auth: <version> <caller> <time ms> <nonce> <hmac>`, under the cluster's NATS key.
 *
 * - v2 (signed by default): one HMAC over the subject, the caller, the time and the nonce followed
 *   by the payload's own bytes. The subject and the payload are length-prefixed, so no other
 *   (subject, payload) pair reads as the same bytes.
 * - v1: an HMAC over the same fields with the payload's SHA-256 in place of the payload, two hash
 *   passes over it. Still verified, so services that sign v1 keep talking during a rolling upgrade.
 */
export const MESSAGE_AUTH_HEADER = 'Cairn-Auth';
export const MessageSignatureVersions = { V1: 'v1', V2: 'v2' } as const;
export type MessageSignatureVersion = (typeof MessageSignatureVersions)[keyof typeof MessageSignatureVersions];
export const DEFAULT_MESSAGE_SIGNATURE_VERSION: MessageSignatureVersion = MessageSignatureVersions.V2;

export function isMessageSignatureVersion(text: string): text is MessageSignatureVersion {
  return text === MessageSignatureVersions.V1 || text === MessageSignatureVersions.V2;
}

const CALLER_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9._-]{1,64}$/;
const DATE_PATTERN = /^\d{1,16}$/;
const NONCE_PATTERN = /^[0-9a-f]{32}$/;
const MAC_PATTERN = /^[0-9a-f]{64}$/;
/** v1's scheme line; v2's differs in its first line, so a v1 string to sign can never be read as a v2 one. */
const V1_SCHEME = 'Cairn-NATS-HMAC-SHA256';
const V2_SCHEME = 'Cairn-NATS-HMAC-SHA256-V2';

function v1Mac(key: Buffer, subject: string, caller: string, dateMs: string, nonce: string, payload: Uint8Array): Buffer {
  return createHmac('sha256', key).update([V1_SCHEME, subject, caller, dateMs, nonce, sha256Hex(payload)].join('\n')).digest();
}

/**
 * `scheme \n <subject bytes>:<subject> \n caller \n time \n nonce \n <payload bytes> \n` and the
 * payload. The caller, time and nonce come from alphabets without a newline (checked on both
 * sides); the two free-form fields carry their lengths.
 */
function v2Mac(key: Buffer, subject: string, caller: string, dateMs: string, nonce: string, payload: Uint8Array): Buffer {
  const head = `${V2_SCHEME}\n${Buffer.byteLength(subject)}:${subject}\n${caller}\n${dateMs}\n${nonce}\n${payload.byteLength}\n`;
  return createHmac('sha256', key).update(head).update(payload).digest();
}

/** Random bytes drawn at a time for nonces: one call to the CSPRNG per 256 nonces (a call costs more than the HMAC). */
const NONCE_BYTES = 16;
const NONCE_POOL_BYTES = 256 * NONCE_BYTES;
let noncePool = Buffer.alloc(0);
let noncePoolOffset = 0;

/** 16 fresh random bytes as hex; each pooled byte is handed out once. */
function nextNonce(): string {
  if (noncePoolOffset + NONCE_BYTES > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.toString('hex', noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}

export function signMessage(
  key: Buffer,
  caller: string,
  subject: string,
  payload: Uint8Array,
  nowMs: number,
  version: MessageSignatureVersion = DEFAULT_MESSAGE_SIGNATURE_VERSION,
): string {
  if (!CALLER_PATTERN.test(caller)) throw new Error(`cannot sign as "${caller}": a caller is <service>/<instance>`);
  const dateMs = String(nowMs);
  const nonce = nextNonce();
  const mac = (version === MessageSignatureVersions.V2 ? v2Mac : v1Mac)(key, subject, caller, dateMs, nonce, payload);
  return `${version} ${caller} ${dateMs} ${nonce} ${mac.toString('hex')}`;
}

export type MessageVerdict =
  | { readonly ok: true; readonly caller: string; readonly nonce: string; readonly version: MessageSignatureVersion }
  | { readonly ok: false; readonly reason: string };

/** Checks either version's signature and its time (the nonce's replay is the caller's to check). */
export function verifyMessage(
  key: Buffer,
  header: string | undefined,
  subject: string,
  payload: Uint8Array,
  nowMs: number,
  maxSkewMs: number = DEFAULT_MAX_CLOCK_SKEW_MS,
): MessageVerdict {
  if (!header) return { ok: false, reason: `no ${MESSAGE_AUTH_HEADER} header` };
  const parts = header.split(' ');
  if (parts.length !== 5 || !isMessageSignatureVersion(parts[0])) return { ok: false, reason: `malformed ${MESSAGE_AUTH_HEADER} header` };
  const [version, caller, dateMs, nonce, mac] = parts as [MessageSignatureVersion, string, string, string, string];
  if (!CALLER_PATTERN.test(caller) || !DATE_PATTERN.test(dateMs) || !NONCE_PATTERN.test(nonce) || !MAC_PATTERN.test(mac)) {
    return { ok: false, reason: `malformed ${MESSAGE_AUTH_HEADER} header` };
  }
  if (Math.abs(nowMs - Number(dateMs)) > maxSkewMs) return { ok: false, reason: `message time is more than ${maxSkewMs} ms from the receiver's clock` };
  const expected = (version === MessageSignatureVersions.V2 ? v2Mac : v1Mac)(key, subject, caller, dateMs, nonce, payload);
  if (!timingSafeEqual(expected, Buffer.from(mac, 'hex'))) return { ok: false, reason: 'signature does not match' };
  return { ok: true, caller, nonce, version };
}
