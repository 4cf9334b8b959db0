import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeLingeringOnceAnswered, LINGERING_CLOSE_MAX_BYTES } from '@cairn/service-kit';

/** The largest body a refused request may still send in full on its connection (read and dropped). */
export const DRAIN_UNREAD_BODY_MAX_BYTES = LINGERING_CLOSE_MAX_BYTES;
/** What aws-chunked framing may add to a declared (decoded) length: chunk sizes, signatures, the trailer. */
const CHUNK_FRAMING_ALLOWANCE_BYTES = 256 * 1024;
/** How long the rest of a refused body may take to arrive before its connection is cut. */
export const DRAIN_UNREAD_BODY_MAX_MS = 10_000;

/**
 * Settles the connection of a request answered with an error before its whole body arrived; call it
 * before the answer is sent.
 *
 * Closing at once would make the client's kernel answer the rest of its body with a reset, and a
 * client still writing (even a 10-byte body sent just after its headers) then reports EPIPE instead of
 * the error, or loses the answer it had not read yet. So:
 * - a small or unsized body that nobody started reading is read and dropped once the answer is out,
 *   and the connection serves the next request; past DRAIN_UNREAD_BODY_MAX_BYTES or
 *   DRAIN_UNREAD_BODY_MAX_MS it is cut (the client already has its answer);
 * - anything else (a large declared body, one the handler had started reading, or one the client
 *   holds back until `100 Continue`) gets `Connection: close`, and the gateway closes lingeringly:
 *   its side ends after the answer, and what the client still sends is read and dropped for
 *   LINGERING_CLOSE_MS (or DRAIN_UNREAD_BODY_MAX_BYTES) before the socket is destroyed.
 */
export function settleUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  if (keepsConnection(req)) {
    res.once('finish', () => dropRestOfBody(req));
    return;
  }
  closeLingeringOnceAnswered(req, res);
}

/** Whether the body is one worth receiving to keep the connection: unread, not held back, not declared large. */
function keepsConnection(req: IncomingMessage): boolean {
  if (req.readableFlowing !== null || expectsContinue(req)) return false;
  const declared = declaredBodyBytes(req);
  return declared === undefined || declared <= DRAIN_UNREAD_BODY_MAX_BYTES;
}

/**
 * The body's size as the client declared it: Content-Length, or for a chunked aws-chunked upload
 * (what the AWS SDKs send for a stream body) x-amz-decoded-content-length; undefined when unsized.
 */
export function declaredBodyBytes(req: IncomingMessage): number | undefined {
  const contentLength = req.headers['content-length'];
  if (contentLength !== undefined) return sizeOf(contentLength);
  const decoded = req.headers['x-amz-decoded-content-length'];
  return typeof decoded === 'string' ? sizeOf(decoded) : undefined;
}

function sizeOf(header: string): number {
  const value = Number(header);
  // An unreadable size counts as too large to wait for.
  return Number.isSafeInteger(value) && value >= 0 ? value : Number.POSITIVE_INFINITY;
}

export function expectsContinue(req: IncomingMessage): boolean {
  return (req.headers.expect ?? '').toLowerCase() === '100-continue';
}

/** Node reads and drops an unconsumed body once the answer is out; this bounds how much and how long. */
function dropRestOfBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  const limit = DRAIN_UNREAD_BODY_MAX_BYTES + CHUNK_FRAMING_ALLOWANCE_BYTES;
  let dropped = 0;
  const cut = () => req.socket?.destroy();
  const deadline = setTimeout(cut, DRAIN_UNREAD_BODY_MAX_MS);
  deadline.unref();
  const settled = () => clearTimeout(deadline);
  req.on('data', (piece: Buffer) => {
    dropped += piece.length;
    if (dropped > limit) {
      settled();
      cut();
    }
  });
  req.once('end', settled);
  req.once('close', settled);
  req.resume();
}
