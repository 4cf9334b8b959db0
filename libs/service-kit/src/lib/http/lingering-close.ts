import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long a closing connection keeps reading (and dropping) what its client is still sending. */
export const LINGERING_CLOSE_MS = 2_000;
/** How much of what its client is still sending a closing connection reads and drops. */
export const LINGERING_CLOSE_MAX_BYTES = 8 * 1024 * 1024;

/**
 * For an answer about to be sent before the request's whole body arrived: tells the client the
 * connection closes, and once the answer is out closes it lingeringly (closeLingering).
 */
export function closeLingeringOnceAnswered(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  res.once('finish', () => closeLingering(req));
}

/**
 * Closes the connection of a request answered before its whole body arrived, lingeringly; call it
 * once the answer is out (the response's 'finish'), on a response sent with `Connection: close`.
 *
 * Node ends the socket after such an answer and destroys it once that end is flushed. Destroying a
 * socket whose client is still writing makes this side's kernel answer the rest with a reset, and
 * the client reports EPIPE or ECONNRESET instead of the answer (or loses the answer it had not read
 * yet). This keeps the destroy back: the client gets the answer and an orderly end, and what it
 * still sends is read and dropped until it stops, `maxBytes` or `maxMs`, whichever comes first.
 */
export function closeLingering(req: IncomingMessage, maxMs = LINGERING_CLOSE_MS, maxBytes = LINGERING_CLOSE_MAX_BYTES): void {
  const socket: Socket | null = req.socket;
  if (!socket || socket.destroyed) return;
  const close = holdBackDestroy(socket, maxMs);
  let dropped = 0;
  socket.on('data', (piece: Buffer) => {
    dropped += piece.length;
    if (dropped > maxBytes) close();
  });
  if (!req.destroyed) req.resume();
  socket.resume();
  restartReading(socket);
}

/**
 * Keeps Node from destroying a socket answered with `Connection: close` as soon as its answer is
 * flushed; it is destroyed instead when the client ends its side or after `maxMs`. Answers the
 * close, for whoever reads and drops what the client still sends to call past its own limit.
 */
export function holdBackDestroy(socket: Socket, maxMs: number): () => void {
  // Node's destroySoon (its close after `Connection: close`) waits for this 'finish' to destroy.
  socket.removeListener('finish', socket.destroy);
  const close = () => socket.destroy();
  const deadline = setTimeout(close, maxMs);
  deadline.unref();
  socket.once('close', () => clearTimeout(deadline));
  socket.once('end', close);
  return close;
}

/**
 * Makes the socket read again if the HTTP server had stopped it. Node's parser reads the socket
 * natively and stops it while the request's buffer is full (the body nobody read); its own restart
 * hangs on the socket's 'resume' event, which the 'data' listener above unhooks, and the stream then
 * believes a read is pending, so resume() alone would never read again (seen in about one case of
 * five: the client's writes stall and only the deadline closes). This is what Node's restart does.
 */
function restartReading(socket: Socket): void {
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStart?: () => number } | null })._handle;
  if (!handle || handle.reading || typeof handle.readStart !== 'function') return;
  handle.reading = true;
  handle.readStart();
}
