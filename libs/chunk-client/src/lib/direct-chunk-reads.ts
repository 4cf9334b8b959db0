import { connect, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { ContentHasher, type ContentHash } from '@cairn/hashing';
import { ClientHashMismatchError } from './chunk-client.errors';

/**
 * One read buffer for every connection of a DirectChunkReads, for what is not a chunk's body: a
 * response's head (and whatever body came with it), an error's body. The kernel copies each such
 * read into it and the bytes are parsed (and copied out) before the next read (Node calls `onread`
 * once per read, on the one JS thread), so nothing is allocated per read, whatever the traffic.
 */
export const DIRECT_READ_BUFFER_BYTES = 1024 * 1024;
/**
 * Once a chunk's head is in, each socket read lands straight in the target at the offset reached,
 * at most this many bytes at a time: small enough that the bytes are still in the core's cache
 * when they are hashed right after.
 */
export const DIRECT_BODY_READ_MAX_BYTES = 1024 * 1024;
/** Kept-alive connections per node between reads (four 64 MiB GETs each reading one chunk ahead). */
export const DIRECT_IDLE_CONNECTIONS_PER_NODE = 8;
/** A response's status line and headers; a node's are a few hundred bytes. */
export const RESPONSE_HEAD_MAX_BYTES = 16 * 1024;
/** An error response's body read for its code and message (the rest is not waited for). */
export const ERROR_BODY_MAX_BYTES = 16 * 1024;

export interface DirectReadTimeouts {
  /** From the request's write to the end of the response's headers. */
  readonly headersMs: number;
  /** Between two reads of the body. */
  readonly bodyMs: number;
  /** An idle connection is closed after this long: before the node's HTTP server would close it (service-kit keeps them 65 s). */
  readonly idleMs: number;
}

/** What the request carries once the pool's interceptors (signer, tracing) have seen it, and the handler to tell how it went. */
export interface PreparedRequest {
  readonly headers: Record<string, string>;
  readonly handler: Dispatcher.DispatchHandlers;
}

/** The verified chunk (a view of the target), or the node's answer when it was something else: its status and error detail, as describeResponse words them. */
export type DirectReadOutcome = { readonly kind: 'chunk'; readonly bytes: Buffer } | { readonly kind: 'refused'; readonly statusCode: number; readonly reason: string };

/**
 * Whole chunk reads from one storage node over plain HTTP/1.1 connections of their own, received
 * straight into the caller's buffer. undici hands a body over as a fresh view per socket read
 * after copying every byte into its parser's memory; at 8 MiB chunks that allocation and copy
 * were a large share of the gateway's CPU per MiB read. Here, once the response's head is in,
 * each read of the body lands straight in the target at the offset reached and is hashed there
 * (only the head's read, and whatever body came with it, goes through one reused buffer and is
 * copied), and the response is verified against the chunk's hash before the caller sees a byte,
 * as receiveVerified does. Only GETs without a range and with a known length use this;
 * everything else goes through the undici pool.
 */
export class DirectChunkReads {
  private readonly idle: NodeConnection[] = [];
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly readBuffer: Buffer,
    private readonly timeouts: DirectReadTimeouts,
  ) {}

  /** For an http: origin; null for any other (TLS goes through undici). */
  static forOrigin(origin: string, readBuffer: Buffer, timeouts: DirectReadTimeouts): DirectChunkReads | null {
    const url = new URL(origin);
    if (url.protocol !== 'http:') return null;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    return new DirectChunkReads(host, Number(url.port || 80), readBuffer, timeouts);
  }

  /**
   * GETs `path` into `target` (the body must fit it) and checks it against `hash`. Resolves with a
   * view of `target` holding the verified chunk, or with the node's refusal (a status other than
   * 200); rejects on a transport failure, a short or overlong body, or a hash mismatch
   * (ClientHashMismatchError), after which `target`'s bytes mean nothing.
   */
  async read(path: string, prepared: PreparedRequest, hash: ContentHash, target: Buffer): Promise<DirectReadOutcome> {
    const request = requestHead(path, this.host, this.port, prepared.headers);
    try {
      const reused = this.idle.pop();
      let outcome: DirectReadOutcome;
      if (reused) {
        try {
          outcome = await reused.exchange(request, hash, target, this.timeouts);
        } catch (error) {
          // The node may have closed the idle connection as the request went out: one fresh try.
          if (!(error instanceof StaleConnectionError)) throw error;
          outcome = await this.exchangeOnNew(request, hash, target);
        }
      } else {
        outcome = await this.exchangeOnNew(request, hash, target);
      }
      prepared.handler.onHeaders?.(outcome.kind === 'chunk' ? 200 : outcome.statusCode, [], noop, '');
      prepared.handler.onComplete?.(null);
      return outcome;
    } catch (error) {
      prepared.handler.onError?.(error as Error);
      throw error;
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.destroy();
  }

  get idleCount(): number {
    return this.idle.length;
  }

  private async exchangeOnNew(request: Buffer, hash: ContentHash, target: Buffer): Promise<DirectReadOutcome> {
    const connection = new NodeConnection(this.host, this.port, this.readBuffer, (c) => this.keep(c), (c) => this.forget(c));
    return connection.exchange(request, hash, target, this.timeouts);
  }

  private keep(connection: NodeConnection): void {
    if (this.closed || this.idle.length >= DIRECT_IDLE_CONNECTIONS_PER_NODE) connection.destroy();
    else this.idle.push(connection);
  }

  private forget(connection: NodeConnection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }
}

/** A kept-alive connection failed before any byte of the response came back: the request may be sent again. */
class StaleConnectionError extends Error {}

/** One response being received; the connection passes it each socket read. */
interface Exchange {
  onBytes(bytes: Buffer): void;
  onFailure(error: Error): void;
  /** Where the next read should land, when it is the chunk's body; null for the shared read buffer. */
  landing(): Buffer | null;
}

class NodeConnection {
  private readonly socket: Socket;
  private exchangeInFlight: Exchange | null = null;
  private usedBefore = false;

  constructor(
    host: string,
    port: number,
    readBuffer: Buffer,
    private readonly onIdle: (connection: NodeConnection) => void,
    private readonly onGone: (connection: NodeConnection) => void,
  ) {
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        // Asked again after each read: a chunk's body goes straight into its target, the rest into the shared buffer.
        buffer: () => this.exchangeInFlight?.landing() ?? readBuffer,
        callback: (bytesRead: number, buffer: Uint8Array) => {
          const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, bytesRead);
          if (this.exchangeInFlight) this.exchangeInFlight.onBytes(bytes);
          else this.socket.destroy(new Error('the node sent bytes outside a response'));
          return true;
        },
      },
    });
    this.socket.on('timeout', () => this.socket.destroy(new Error(this.exchangeInFlight ? 'the node stopped sending' : 'idle')));
    this.socket.on('error', (error) => this.exchangeInFlight?.onFailure(error));
    this.socket.on('close', () => {
      this.onGone(this);
      this.exchangeInFlight?.onFailure(new Error('the node closed the connection'));
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  exchange(request: Buffer, hash: ContentHash, target: Buffer, timeouts: DirectReadTimeouts): Promise<DirectReadOutcome> {
    const reused = this.usedBefore;
    this.usedBefore = true;
    return new Promise<DirectReadOutcome>((resolve, reject) => {
      const response = new ResponseReceiver(hash, target);
      const settle = (outcome: { value: DirectReadOutcome; keepAlive: boolean } | { error: Error }) => {
        this.exchangeInFlight = null;
        if ('error' in outcome) {
          this.socket.destroy();
          reject(reused && !response.started ? new StaleConnectionError(outcome.error.message) : outcome.error);
          return;
        }
        if (outcome.keepAlive && !this.socket.destroyed) {
          this.socket.setTimeout(timeouts.idleMs);
          // An idle connection does not keep the process alive.
          this.socket.unref();
          this.onIdle(this);
        } else {
          this.socket.destroy();
        }
        resolve(outcome.value);
      };
      this.exchangeInFlight = {
        onBytes: (bytes) => {
          let outcome: ReturnType<ResponseReceiver['take']>;
          try {
            outcome = response.take(bytes);
          } catch (error) {
            return settle({ error: error as Error });
          }
          if (response.headComplete) this.socket.setTimeout(timeouts.bodyMs);
          if (outcome) settle(outcome);
        },
        onFailure: (error) => settle({ error }),
        landing: () => response.landing(),
      };
      this.socket.ref();
      this.socket.setTimeout(timeouts.headersMs);
      this.socket.write(request);
    });
  }
}

/** Parses one response to a whole chunk GET, hashing and copying its body into the target as it lands. */
class ResponseReceiver {
  private head: Buffer | null = null;
  private statusCode = 0;
  private lengthBytes = 0;
  private keepAlive = true;
  private receivedBytes = 0;
  private readonly hasher = new ContentHasher();
  private errorBody: Buffer[] | null = null;
  headComplete = false;
  started = false;

  constructor(
    private readonly hash: ContentHash,
    private readonly target: Buffer,
  ) {}

  /** The outcome once the response is complete, else null. Throws on a malformed response or a hash mismatch. */
  take(bytes: Buffer): { value: DirectReadOutcome; keepAlive: boolean } | null {
    this.started = true;
    let body = bytes;
    if (!this.headComplete) {
      // Copied: the read buffer is overwritten by the next read.
      this.head = this.head ? Buffer.concat([this.head, bytes]) : Buffer.from(bytes);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.head.length > RESPONSE_HEAD_MAX_BYTES) throw new Error(`the response head is longer than ${RESPONSE_HEAD_MAX_BYTES} bytes`);
        return null;
      }
      const framed = this.parseHead(this.head.toString('latin1', 0, end));
      body = this.head.subarray(end + 4);
      this.head = null;
      this.headComplete = true;
      if (this.statusCode !== 200) {
        // A refusal framed otherwise (chunked, unbounded) is answered by its status alone; its connection is not reused.
        if (!framed) return { value: { kind: 'refused', statusCode: this.statusCode, reason: `HTTP ${this.statusCode}` }, keepAlive: false };
        this.errorBody = [];
      }
    }
    if (body.length === 0 && this.lengthBytes > 0) return null;
    this.receivedBytes += body.length;
    if (this.receivedBytes > this.lengthBytes) throw new Error(`got more than the ${this.lengthBytes} bytes announced`);
    if (this.errorBody) {
      this.errorBody.push(Buffer.from(body));
      return this.receivedBytes === this.lengthBytes ? { value: this.refusal(), keepAlive: this.keepAlive } : null;
    }
    this.hasher.update(body);
    // A read that landed in place (see landing) is there already.
    const at = this.receivedBytes - body.length;
    if (body.buffer !== this.target.buffer || body.byteOffset !== this.target.byteOffset + at) body.copy(this.target, at);
    if (this.receivedBytes < this.lengthBytes) return null;
    const actual = this.hasher.digest();
    if (actual !== this.hash) throw new ClientHashMismatchError(this.hash, actual);
    return { value: { kind: 'chunk', bytes: this.target.subarray(0, this.lengthBytes) }, keepAlive: this.keepAlive };
  }

  /**
   * The part of the target the next socket read may fill: from the offset reached, up to the end
   * of the announced body (so a read never takes bytes past it) and DIRECT_BODY_READ_MAX_BYTES.
   * Null until the head is in, for a refusal's body, and once the body is complete.
   */
  landing(): Buffer | null {
    if (!this.headComplete || this.errorBody || this.receivedBytes >= this.lengthBytes) return null;
    return this.target.subarray(this.receivedBytes, Math.min(this.lengthBytes, this.receivedBytes + DIRECT_BODY_READ_MAX_BYTES));
  }

  /** False for a refusal whose body is not framed by a content-length of at most ERROR_BODY_MAX_BYTES. */
  private parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!status) throw new Error(`not an HTTP/1 response: ${lines[0].slice(0, 80)}`);
    this.statusCode = Number(status[2]);
    this.keepAlive = status[1] === '1';
    let length: number | null = null;
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon <= 0) continue;
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (length !== null && Number(value) !== length)) throw new Error(`a content-length of ${value}`);
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        if (this.statusCode === 200) throw new Error(`a ${value} transfer encoding where a whole chunk's length was expected`);
        return false;
      } else if (name === 'connection') {
        const tokens = value.toLowerCase().split(',').map((t) => t.trim());
        if (tokens.includes('close')) this.keepAlive = false;
        else if (tokens.includes('keep-alive')) this.keepAlive = true;
      }
    }
    if (this.statusCode !== 200) {
      if (length === null || length > ERROR_BODY_MAX_BYTES) return false;
    } else if (length === null) {
      throw new Error('a chunk without a content-length');
    } else if (length > this.target.length) {
      throw new Error(`the node announced ${length} bytes, more than the ${this.target.length} of the chunk`);
    }
    this.lengthBytes = length;
    return true;
  }

  /** As describeResponse words a refusal: the status, and the code and message of our JSON error shape when there is one. */
  private refusal(): DirectReadOutcome {
    const text = Buffer.concat(this.errorBody ?? []).toString('utf8');
    let detail = '';
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string };
      detail = parsed.code ? `${parsed.code}: ${parsed.message ?? ''}` : text.slice(0, 200);
    } catch {
      // Not our JSON error shape: the status says enough.
    }
    return { kind: 'refused', statusCode: this.statusCode, reason: `HTTP ${this.statusCode}${detail ? ` ${detail}` : ''}` };
  }
}

function requestHead(path: string, host: string, port: number, headers: Record<string, string>): Buffer {
  let head = `GET ${path} HTTP/1.1\r\nhost: ${host.includes(':') ? `[${host}]` : host}:${port}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name} holds a line break`);
    if (name !== 'host' && name !== 'connection') head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}connection: keep-alive\r\n\r\n`, 'latin1');
}

function noop(): void {
  // A response received whole has nothing to resume.
}
