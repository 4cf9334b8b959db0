import { createHash, randomBytes } from 'node:crypto';
import { CairnError, ErrorCodes, MESSAGE_AUTH_HEADER, subjectsFor } from '@cairn/protocol';
import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';
import type { MessageAuthenticator } from './message-auth';

/**
 * RPC requests and replies larger than one NATS message. nats-server refuses any message over its
 * `max_payload` (1 MiB by default), and either side of an RPC can pass it: a page of 1,000 keys of
 * up to 1 KiB each or the chunk list of a very large object in a reply; the 10,000 parts of a
 * multipart completion or a big chunk list in a request. Such a body is held by its sender (a
 * LargeMessageHolder) and sent as a small descriptor (LARGE_REPLY_HEADER or LARGE_REQUEST_HEADER
 * set, the descriptor as the body); the receiver then fetches the pieces one request at a time
 * from the holder's own subject, signed like every request, and checks their length and SHA-256
 * against the descriptor. Every body that fits one message is sent as itself, as before.
 *
 * A reply's pieces are served under `rpc.<service>.reply-pieces.` (the responder subscribes to its
 * service's subjects, its callers may publish there); a request's under
 * `rpc.<service>.request-pieces.` (its callers may subscribe there, the responder publish:
 * nats-auth-permissions.ts). Federation uses `fed.<region>.` for both, the family that crosses the links.
 */
export const LARGE_REPLY_HEADER = 'Cairn-Large-Reply';
export const LARGE_REQUEST_HEADER = 'Cairn-Large-Request';

/** Room left under max_payload for a message's headers (signature, trace context, request id). */
const HEADER_ROOM_BYTES = 16 * 1024;
/** nats-server's default max_payload, for a connection that has not said otherwise. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** A held body nobody finished fetching is dropped after this long. */
const HELD_MESSAGE_TTL_MS = 60_000;
/** Most bytes of large bodies a holder keeps at once; past it another is refused with SlowDown. */
const MAX_HELD_BYTES = 256 * 1024 * 1024;
/** The largest body a receiver fetches (a descriptor naming more is refused). */
const MAX_FETCHED_BYTES = MAX_HELD_BYTES;
/** How long a responder waits for each piece of a large request from its caller. */
export const REQUEST_PIECE_TIMEOUT_MS = 10_000;
const SLOW_DOWN = 'SlowDown';

export interface LargeMessageDescriptor {
  /** Where the pieces are fetched: one request per piece, `{ id, index }`. */
  readonly subject: string;
  readonly id: string;
  readonly bytes: number;
  readonly pieces: number;
  readonly sha256: string;
}

interface PieceRequest {
  readonly id: string;
  readonly index: number;
}

/** A fresh subject, under the service's RPC subjects (its callers may publish there), for one responder's reply pieces. */
export function replyPiecesSubject(namespace: string, service: string): string {
  return subjectsFor(namespace).rpc(service, `reply-pieces.${randomBytes(8).toString('hex')}`);
}

/** Where callers of `service` serve the pieces of their large requests (the responder may publish there). */
export function requestPiecesPrefix(namespace: string, service: string): string {
  return subjectsFor(namespace).rpc(service, 'request-pieces.');
}

/** A fresh subject for one caller's request pieces to `service` (requestPiecesPrefix). */
export function requestPiecesSubject(namespace: string, service: string): string {
  return `${requestPiecesPrefix(namespace, service)}${randomBytes(8).toString('hex')}`;
}

/** The largest body a message on `nc` may carry, headers allowed for. */
export function maxBodyBytes(nc: NatsConnection): number {
  return Math.max(HEADER_ROOM_BYTES, (nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES) - HEADER_ROOM_BYTES);
}

interface HeldMessage {
  readonly data: Uint8Array;
  readonly pieceBytes: number;
  readonly expiresAtMs: number;
}

/**
 * Large bodies a process sent and holds until they are fetched (a responder's replies, a caller's
 * requests), and the subscription that serves their pieces. Each is dropped once its last piece
 * has been fetched, when its sender releases it, or HELD_MESSAGE_TTL_MS after it was held.
 */
export class LargeMessageHolder {
  private readonly held = new Map<string, HeldMessage>();
  private heldBytes = 0;
  private subscription: Subscription | undefined;

  /**
   * `subject`: where this holder serves pieces; one the receivers may publish to
   * (replyPiecesSubject for a service's replies, requestPiecesSubject for its callers' requests).
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly authenticator: MessageAuthenticator,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * Holds `data` (too large for one message) and answers its descriptor, or undefined when the
   * holder already keeps MAX_HELD_BYTES.
   */
  hold(data: Uint8Array): LargeMessageDescriptor | undefined {
    this.dropExpired();
    if (this.heldBytes + data.length > MAX_HELD_BYTES) return undefined;
    this.listen();
    const pieceBytes = maxBodyBytes(this.nc);
    const id = randomBytes(16).toString('hex');
    this.held.set(id, { data, pieceBytes, expiresAtMs: this.nowMs() + HELD_MESSAGE_TTL_MS });
    this.heldBytes += data.length;
    return {
      subject: this.subject,
      id,
      bytes: data.length,
      pieces: Math.ceil(data.length / pieceBytes),
      sha256: createHash('sha256').update(data).digest('hex'),
    };
  }

  /** Sends `data` as `msg`'s reply: as itself when it fits one message, else held and described. */
  respond(msg: Msg, data: Uint8Array): void {
    if (data.length <= maxBodyBytes(this.nc)) {
      msg.respond(data);
      return;
    }
    const descriptor = this.hold(data);
    if (!descriptor) {
      msg.respond(new TextEncoder().encode(JSON.stringify({ ok: false, error: { code: SLOW_DOWN, message: 'too many large replies are waiting to be fetched; try again' } })));
      return;
    }
    const h = natsHeaders();
    h.set(LARGE_REPLY_HEADER, '1');
    msg.respond(new TextEncoder().encode(JSON.stringify(descriptor)), { headers: h });
  }

  /** Bodies held now, and their bytes. */
  holding(): { readonly messages: number; readonly bytes: number } {
    return { messages: this.held.size, bytes: this.heldBytes };
  }

  /** Drops a held body before its last piece was fetched (its request was answered or given up). */
  release(id: string): void {
    const message = this.held.get(id);
    if (!message) return;
    this.held.delete(id);
    this.heldBytes -= message.data.length;
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.held.clear();
    this.heldBytes = 0;
  }

  private listen(): void {
    if (this.subscription) return;
    this.subscription = this.nc.subscribe(this.subject, { callback: (error, msg) => error || this.servePiece(msg) });
  }

  private servePiece(msg: Msg): void {
    if (!msg.reply) return;
    const verdict = this.authenticator.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data);
    if (!verdict.ok) return; // Unsigned fetches get no answer, like a request nobody serves.
    const request = parsePieceRequest(msg.data);
    const message = request ? this.held.get(request.id) : undefined;
    if (!request || !message || message.expiresAtMs < this.nowMs()) {
      msg.respond(new Uint8Array(0));
      return;
    }
    const start = request.index * message.pieceBytes;
    if (start >= message.data.length) {
      msg.respond(new Uint8Array(0));
      return;
    }
    const end = Math.min(message.data.length, start + message.pieceBytes);
    msg.respond(message.data.subarray(start, end));
    // The receiver fetches in order: once the last piece has gone, nothing more is asked for.
    if (end === message.data.length) this.release(request.id);
  }

  private dropExpired(): void {
    const now = this.nowMs();
    for (const [id, message] of this.held) if (message.expiresAtMs < now) this.release(id);
  }
}

function parsePieceRequest(data: Uint8Array): PieceRequest | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<PieceRequest>;
    if (typeof value.id === 'string' && Number.isInteger(value.index) && (value.index as number) >= 0) return { id: value.id, index: value.index as number };
  } catch {
    // Not a piece request: no answer but an empty one.
  }
  return undefined;
}

export interface FetchOptions {
  /** For each piece. */
  readonly timeoutMs: number;
  readonly authenticator?: MessageAuthenticator;
  /** When set, a descriptor naming a subject not under it is refused (a request's pieces come only from where its callers serve them). */
  readonly subjectPrefix?: string;
}

/** A reply's body: the message's own, or, for a large reply's descriptor, the pieces it names (fetchLargeMessage). */
export function replyBodyOf(nc: NatsConnection, reply: Msg, options: FetchOptions): Promise<Uint8Array> | Uint8Array {
  return bodyOf(nc, reply, LARGE_REPLY_HEADER, options);
}

/** A request's body, as replyBodyOf: a large request's pieces are fetched from its caller. */
export function requestBodyOf(nc: NatsConnection, request: Msg, options: FetchOptions): Promise<Uint8Array> | Uint8Array {
  return bodyOf(nc, request, LARGE_REQUEST_HEADER, options);
}

function bodyOf(nc: NatsConnection, msg: Msg, header: string, options: FetchOptions): Promise<Uint8Array> | Uint8Array {
  if (!msg.headers?.get(header)) return msg.data;
  let descriptor: LargeMessageDescriptor;
  try {
    descriptor = JSON.parse(new TextDecoder().decode(msg.data)) as LargeMessageDescriptor;
  } catch {
    throw new CairnError(ErrorCodes.Internal, 'a large message came with a descriptor that is not JSON');
  }
  return fetchLargeMessage(nc, descriptor, options);
}

/** The body a descriptor stands for, fetched piece by piece and checked against its length and hash. */
export async function fetchLargeMessage(nc: NatsConnection, descriptor: LargeMessageDescriptor, options: FetchOptions): Promise<Uint8Array> {
  if (!isDescriptor(descriptor)) throw new CairnError(ErrorCodes.Internal, 'a large message came with a malformed descriptor');
  if (options.subjectPrefix !== undefined && !descriptor.subject.startsWith(options.subjectPrefix)) {
    throw new CairnError(ErrorCodes.InvalidCommand, `a large message's pieces are not served under ${options.subjectPrefix}`);
  }
  if (descriptor.bytes > MAX_FETCHED_BYTES) throw new CairnError(ErrorCodes.InvalidCommand, `a large message of ${descriptor.bytes} bytes is more than the ${MAX_FETCHED_BYTES} fetched`);
  const whole = new Uint8Array(descriptor.bytes);
  let filled = 0;
  const hash = createHash('sha256');
  for (let index = 0; index < descriptor.pieces; index++) {
    const data = new TextEncoder().encode(JSON.stringify({ id: descriptor.id, index }));
    const h = natsHeaders();
    if (options.authenticator) h.set(MESSAGE_AUTH_HEADER, options.authenticator.sign(descriptor.subject, data));
    let piece: Uint8Array;
    try {
      piece = await fetchPiece(nc, descriptor.subject, data, h, options.timeoutMs);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '503' || code === 'TIMEOUT') throw new CairnError(ErrorCodes.Timeout, `a large message's piece ${index} of ${descriptor.pieces} was not served by its sender (${code === '503' ? 'nobody holds it' : `no answer within ${options.timeoutMs} ms`})`);
      throw error;
    }
    if (piece.length === 0 || filled + piece.length > descriptor.bytes) {
      throw new CairnError(ErrorCodes.Timeout, `a large message's piece ${index} of ${descriptor.pieces} is no longer held by its sender`);
    }
    whole.set(piece, filled);
    hash.update(piece);
    filled += piece.length;
  }
  if (filled !== descriptor.bytes || hash.digest('hex') !== descriptor.sha256) {
    throw new CairnError(ErrorCodes.Internal, `a large message arrived with ${filled} of ${descriptor.bytes} bytes or the wrong hash`);
  }
  return whole;
}

/**
 * How long a piece's fetch keeps asking while nobody is subscribed where the pieces are served. The
 * sender subscribes there as it first holds a message; on one server that is in place before the
 * descriptor is delivered (a connection's messages are handled in order), but across routes, leaf
 * nodes and the federation hub the subscription's interest reaches the other servers a moment later.
 */
const NO_RESPONDERS_PATIENCE_MS = 2_000;

async function fetchPiece(nc: NatsConnection, subject: string, data: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<Uint8Array> {
  const giveUpAt = Date.now() + Math.min(NO_RESPONDERS_PATIENCE_MS, timeoutMs);
  for (let pauseMs = 25; ; pauseMs = Math.min(2 * pauseMs, 400)) {
    try {
      return (await nc.request(subject, data, { timeout: timeoutMs, headers })).data;
    } catch (error) {
      if ((error as { code?: string }).code !== '503' || Date.now() + pauseMs > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Sends a request and answers its reply's body. A request body too large for one message is held
 * by `holder()` (made on first need) and sent as a descriptor, released once the reply is in (or
 * the request failed). `sign` signs what is sent: the body, or the descriptor.
 */
export async function requestLarge(
  nc: NatsConnection,
  subject: string,
  data: Uint8Array,
  options: { readonly timeoutMs: number; readonly headers: MsgHdrs; readonly authenticator?: MessageAuthenticator; readonly holder: () => LargeMessageHolder },
): Promise<Uint8Array> {
  let body = data;
  let held: { readonly holder: LargeMessageHolder; readonly id: string } | undefined;
  if (data.length > maxBodyBytes(nc)) {
    const holder = options.holder();
    const descriptor = holder.hold(data);
    if (!descriptor) throw new CairnError(SLOW_DOWN, 'too many large requests are waiting to be fetched; try again');
    held = { holder, id: descriptor.id };
    body = new TextEncoder().encode(JSON.stringify(descriptor));
    options.headers.set(LARGE_REQUEST_HEADER, '1');
  }
  if (options.authenticator) options.headers.set(MESSAGE_AUTH_HEADER, options.authenticator.sign(subject, body));
  try {
    const reply = await nc.request(subject, body, { timeout: options.timeoutMs, headers: options.headers });
    return await replyBodyOf(nc, reply, { timeoutMs: options.timeoutMs, authenticator: options.authenticator });
  } finally {
    if (held) held.holder.release(held.id);
  }
}

function isDescriptor(value: LargeMessageDescriptor): boolean {
  return (
    typeof value?.subject === 'string' &&
    typeof value.id === 'string' &&
    Number.isSafeInteger(value.bytes) &&
    value.bytes > 0 &&
    Number.isSafeInteger(value.pieces) &&
    value.pieces > 0 &&
    typeof value.sha256 === 'string'
  );
}
