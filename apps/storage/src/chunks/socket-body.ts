import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { holdBackDestroy, LINGERING_CLOSE_MAX_BYTES, LINGERING_CLOSE_MS } from '@cairn/service-kit';
import type { BodyWindows, DirectBody } from '../domain/chunk-store.port';

/**
 * Where a read lands while the store lends no memory (both blocks being written); its bytes are
 * copied into the next window. Only the first read after each pause uses it.
 */
export const SOCKET_BODY_SCRATCH_BYTES = 64 * 1024;

/** The parts of a socket's libuv handle used here (net.Socket's `_handle`). */
interface StreamHandle {
  reading?: boolean;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

/** The parts of Node's HTTP parser used here (`socket.parser`). */
interface HttpParser {
  _consumed?: boolean;
  incoming?: unknown;
  unconsume(): void;
}

type ServerSocket = Socket & { parser?: HttpParser | null; _handle?: StreamHandle | null; _paused?: boolean; encrypted?: boolean };

/** The private slots through which net.Socket hands each read to an `onread` callback. */
interface OnreadSlots {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

let onreadSlots: OnreadSlots | null | undefined;

/**
 * Found once by making sockets with the `onread` option of net.connect and seeing where its
 * values went, so nothing depends on their names. Null when this runtime keeps them otherwise:
 * bodies are then read through the HTTP server as before.
 */
export function findOnreadSlots(): OnreadSlots | null {
  if (onreadSlots !== undefined) return onreadSlots;
  onreadSlots = null;
  try {
    const probe = Buffer.alloc(1);
    const callback = () => true;
    const generator = () => probe;
    const slotHolding = (options: { buffer: unknown; callback: unknown }, value: unknown): symbol | undefined => {
      const socket = new Socket({ onread: options } as ConstructorParameters<typeof Socket>[0]);
      const record = socket as unknown as Record<symbol, unknown>;
      const slot = Object.getOwnPropertySymbols(socket).find((s) => record[s] === value);
      socket.destroy();
      return slot;
    };
    const buffer = slotHolding({ buffer: probe, callback }, probe);
    const callbackSlot = slotHolding({ buffer: probe, callback }, callback);
    const generatorSlot = slotHolding({ buffer: generator, callback }, generator);
    if (buffer && callbackSlot && generatorSlot && new Set([buffer, callbackSlot, generatorSlot]).size === 3) {
      onreadSlots = { buffer, callback: callbackSlot, generator: generatorSlot };
    }
  } catch {
    onreadSlots = null;
  }
  return onreadSlots;
}

/**
 * Takes the rest of a request's body away from Node's HTTP server: every later socket read lands
 * straight in memory the store lends (BodyWindows), with nothing allocated, copied or streamed
 * per piece (the server copies each body piece of at most 64 KiB into a fresh buffer and streams
 * it). Bytes the server had parsed already are taken from the request first. Null when the
 * request cannot be taken (TLS, a body not framed by Content-Length, a body already complete, a
 * runtime without the hooks): read it as a stream then.
 *
 * The parser never sees the rest of the body, so the connection cannot carry another request:
 * the response to a request taken this way must close it (Connection: close).
 */
export function takeSocketBody(req: IncomingMessage, lengthBytes: number): SocketBody | null {
  const socket = req.socket as ServerSocket | null;
  const slots = findOnreadSlots();
  if (!socket || !slots || socket.encrypted || socket.destroyed || socket._paused) return null;
  const handle = socket._handle;
  const parser = socket.parser;
  if (!handle || typeof handle.useUserBuffer !== 'function' || typeof handle.readStart !== 'function' || typeof handle.readStop !== 'function') return null;
  if (!parser || typeof parser.unconsume !== 'function' || parser.incoming !== req) return null;
  if (req.complete || req.readableEnded || req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) !== lengthBytes) return null;
  // From here on the parser gets no more bytes, as when Node's server hands a socket to an upgrade.
  if (parser._consumed) parser.unconsume();
  parser._consumed = false;
  for (const event of ['pause', 'resume'] as const) {
    for (const listener of socket.listeners(event)) {
      if (/^onSocket(Pause|Resume)$/.test((listener as { name?: string }).name ?? '')) socket.removeListener(event, listener as () => void);
    }
  }
  handle.reading = false;
  handle.readStop();
  return new SocketBody(req, socket, handle, slots, lengthBytes);
}

/** A request body read from its socket by the node itself; see takeSocketBody. */
export class SocketBody implements DirectBody {
  private readonly scratch = Buffer.allocUnsafeSlow(SOCKET_BODY_SCRATCH_BYTES);
  /** Bytes received but not yet in a window: the server's parsed pieces, reads that landed in the scratch. */
  private readonly backlog: Buffer[] = [];
  private backlogBytes = 0;
  private received = 0;
  private windows: BodyWindows | null = null;
  /** The memory the next read lands in. */
  private lent: Uint8Array | null = null;
  private settle: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private done = false;
  /** Once the answer to a body given up is out: what the client still sends is counted and dropped. */
  private draining: { dropped: number; readonly maxBytes: number; readonly close: () => void } | null = null;
  private readonly onClose = () => this.fail(new Error(`the connection closed after ${this.received} of ${this.lengthBytes} body bytes`));
  private readonly onEnd = () => this.fail(new Error(`the body ended after ${this.received} of ${this.lengthBytes} bytes`));
  private readonly onError = (error: Error) => this.fail(error);

  constructor(
    private readonly req: IncomingMessage,
    private readonly socket: Socket,
    private readonly handle: StreamHandle,
    private readonly slots: OnreadSlots,
    readonly lengthBytes: number,
  ) {}

  receive(windows: BodyWindows): Promise<void> {
    if (this.windows) return Promise.reject(new Error('a socket body is received once'));
    this.windows = windows;
    return new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
      if (this.done) return reject(new Error('the body was given up before it was received'));
      this.socket.on('close', this.onClose);
      this.socket.on('end', this.onEnd);
      this.socket.on('error', this.onError);
      if (this.socket.destroyed) return this.onClose();
      // A turn later: a request taken while its parser was still at work (within the server's
      // 'request' event) gets the rest of that read's body bytes first.
      setImmediate(() => this.start());
    });
  }

  /** Takes the bytes the server parsed, then reads the socket into the windows. */
  private start(): void {
    if (this.done) return;
    for (let piece = this.req.read() as Buffer | null; piece !== null; piece = this.req.read() as Buffer | null) {
      const take = Math.min(piece.length, this.lengthBytes - this.received - this.backlogBytes);
      if (take > 0) this.backlog.push(piece.subarray(0, take));
      this.backlogBytes += Math.max(take, 0);
    }
    this.flushBacklog();
    if (this.done) return;
    const record = this.socket as unknown as Record<symbol, unknown>;
    const first = this.nextBuffer();
    record[this.slots.callback] = (bytesRead: number, buffer: Uint8Array) => this.onRead(bytesRead, buffer);
    record[this.slots.generator] = () => this.nextBuffer();
    record[this.slots.buffer] = first;
    this.handle.useUserBuffer(first);
    if (first !== this.scratch) this.startReading();
  }

  more(): void {
    if (this.done) return;
    this.flushBacklog();
    if (!this.done && this.backlogBytes === 0 && this.windows?.next()) this.startReading();
  }

  /** Stops reading; the connection is left for the answer, which must close it. */
  abort(error: Error): void {
    this.fail(error, false);
  }

  get bytesReceived(): number {
    return this.received;
  }

  /**
   * Readies `res`, the answer to this request, to close the connection (the HTTP parser saw none
   * of the body, so it can carry no other request). When the body was given up before all of it
   * arrived (abort: a write failed, the disk filled), the close is lingering, as service-kit's
   * closeLingering is for a body the HTTP server reads: destroying the socket under a client still
   * sending makes this side's kernel reset the connection, and the client reports EPIPE or
   * ECONNRESET in place of the answer. Once the answer is out, what the client still sends is
   * read into the scratch and dropped until it ends, `maxBytes` or `maxMs`, whichever comes first.
   */
  closeOnceAnswered(res: ServerResponse, maxMs = LINGERING_CLOSE_MS, maxBytes = LINGERING_CLOSE_MAX_BYTES): void {
    res.setHeader('connection', 'close');
    if (this.received < this.lengthBytes) res.once('finish', () => this.closeLingering(maxMs, maxBytes));
  }

  private closeLingering(maxMs: number, maxBytes: number): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    this.abort(new Error('answered before the body was received'));
    const close = holdBackDestroy(socket, maxMs);
    this.draining = { dropped: 0, maxBytes, close };
    // Reads land in the scratch and reach onRead, which drops them; a body given up before its
    // reads were taken over still reaches the socket's listeners.
    socket.on('data', (piece: Buffer) => this.drop(piece.length));
    socket.resume();
    this.startReading();
  }

  /** Counts a read dropped while the connection closes lingeringly; false once it is over (or not lingering). */
  private drop(bytesRead: number): boolean {
    const draining = this.draining;
    if (!draining) return false;
    draining.dropped += bytesRead;
    if (draining.dropped <= draining.maxBytes) return true;
    draining.close();
    return false;
  }

  /** Where the next read lands: the store's window, or the scratch while it lends none. */
  private nextBuffer(): Uint8Array {
    const window = this.done || this.backlogBytes > 0 ? null : (this.windows?.next() ?? null);
    this.lent = window && window.byteLength > 0 ? window.subarray(0, Math.min(window.byteLength, this.lengthBytes - this.received)) : this.scratch;
    return this.lent;
  }

  /** One socket read of `bytesRead` bytes into `buffer`; false stops reading. */
  private onRead(bytesRead: number, buffer: Uint8Array): boolean {
    if (this.done) return this.drop(bytesRead);
    try {
      if (buffer === this.scratch || buffer !== this.lent) {
        // Copied: the scratch is overwritten by the next read into it. Bytes past the declared
        // length (a client sending more than it said) are dropped: the connection is closed after.
        const take = Math.min(bytesRead, this.lengthBytes - this.received - this.backlogBytes);
        if (take > 0) {
          this.backlog.push(Buffer.from(buffer.subarray(0, take)));
          this.backlogBytes += take;
        }
        this.flushBacklog();
      } else {
        this.lent = null;
        this.received += bytesRead;
        this.windows!.landed(bytesRead);
        if (this.received === this.lengthBytes) this.complete();
      }
      // Read on only while there is memory to read into.
      return !this.done && this.backlogBytes === 0 && this.windows!.next() !== null;
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }

  /** Copies held bytes into the store's windows while it lends them. */
  private flushBacklog(): void {
    while (this.backlog.length > 0 && !this.done) {
      const window = this.windows?.next();
      if (!window || window.byteLength === 0) return;
      const piece = this.backlog[0];
      const n = Math.min(piece.length, window.byteLength);
      window.set(piece.subarray(0, n));
      if (n === piece.length) this.backlog.shift();
      else this.backlog[0] = piece.subarray(n);
      this.backlogBytes -= n;
      this.received += n;
      this.windows!.landed(n);
      if (this.received === this.lengthBytes) this.complete();
    }
  }

  private startReading(): void {
    if (this.handle.reading || this.socket.destroyed) return;
    this.handle.reading = true;
    const err = this.handle.readStart();
    if (err) this.fail(new Error(`reading the connection failed (${err})`));
  }

  /** No read lands anywhere from here on (readStop takes effect at once). */
  private stopReading(): void {
    this.handle.reading = false;
    this.handle.readStop();
    this.lent = this.scratch;
    (this.socket as unknown as Record<symbol, unknown>)[this.slots.buffer] = this.scratch;
  }

  private complete(): void {
    this.done = true;
    this.stopReading();
    this.detach();
    this.settle?.resolve();
  }

  private fail(error: Error, cutConnection = true): void {
    if (this.done) return;
    this.done = true;
    this.stopReading();
    this.detach();
    if (cutConnection) this.socket.destroy();
    this.settle?.reject(error);
  }

  private detach(): void {
    this.socket.off('close', this.onClose);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
  }
}
