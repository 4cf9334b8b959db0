import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_MAX_CLOCK_SKEW_MS, sha256Hex } from './request-signature';

/**
 * The same proof for NATS messages (RPC requests, heartbeats): one header,
 * `Cairn-Auth: v1 <caller> <time ms> <nonce> <hmac>`, the HMAC over the subject, the caller, the
 * time, the nonce and the payload's SHA-256, under the cluster's NATS key.
 */
export const MESSAGE_AUTH_HEADER = 'Cairn-Auth';
const VERSION = 'v1';
const CALLER_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9._-]{1,64}$/;

function messageStringToSign(subject: string, caller: string, dateMs: string, nonce: string, payload: Uint8Array): string {
  return ['Cairn-NATS-HMAC-SHA256', subject, caller, dateMs, nonce, sha256Hex(payload)].join('\n');
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

export function signMessage(key: Buffer, caller: string, subject: string, payload: Uint8Array, nowMs: number): string {
  const dateMs = String(nowMs);
  const nonce = nextNonce();
  const mac = createHmac('sha256', key).update(messageStringToSign(subject, caller, dateMs, nonce, payload)).digest('hex');
  return `${VERSION} ${caller} ${dateMs} ${nonce} ${mac}`;
}

export type MessageVerdict = { readonly ok: true; readonly caller: string; readonly nonce: string } | { readonly ok: false; readonly reason: string };

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
  if (parts.length !== 5 || parts[0] !== VERSION) return { ok: false, reason: `malformed ${MESSAGE_AUTH_HEADER} header` };
  const [, caller, dateMs, nonce, mac] = parts;
  if (!CALLER_PATTERN.test(caller) || !/^\d{1,16}$/.test(dateMs) || !/^[0-9a-f]{32}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(mac)) {
    return { ok: false, reason: `malformed ${MESSAGE_AUTH_HEADER} header` };
  }
  if (Math.abs(nowMs - Number(dateMs)) > maxSkewMs) return { ok: false, reason: `message time is more than ${maxSkewMs} ms from the receiver's clock` };
  const expected = createHmac('sha256', key).update(messageStringToSign(subject, caller, dateMs, nonce, payload)).digest();
  if (!timingSafeEqual(expected, Buffer.from(mac, 'hex'))) return { ok: false, reason: 'signature does not match' };
  return { ok: true, caller, nonce };
}
