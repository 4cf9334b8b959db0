import { connect } from 'node:net';
import { testClusterCredentials } from '@cairn/testing';

export interface RawChunkPutOutcome {
  /** Everything the node sent back, as latin1 text (status line, headers, JSON body). */
  readonly received: string;
  /** The socket's error, if the node reset the connection (EPIPE, ECONNRESET). */
  readonly failure?: Error;
  /** Whether the node ended the connection in order. */
  readonly ended: boolean;
}

const PIECE_BYTES = 64 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A signed chunk PUT declaring `declaredBytes` over a raw connection (framed by its length, or
 * chunked), of which up to `sendBeforeAnswer` bytes are sent as fast as the node reads them while
 * no answer has come; once it has, 40 more pieces of 64 KiB 5 ms apart, as a piped stream goes on
 * writing. Half open, as an HTTP client is: the node's end does not stop it writing. What a client
 * still sending sees of the node's answer and close.
 */
export async function sendChunkPastTheAnswer(
  url: string,
  hash: string,
  options: { readonly declaredBytes: number; readonly sendBeforeAnswer: number; readonly chunked?: boolean },
): Promise<RawChunkPutOutcome> {
  const target = new URL(url);
  const chunkPath = `/chunks/${hash}`;
  const framing = options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(options.declaredBytes) };
  const headers = { host: target.host, 'content-type': 'application/octet-stream', ...framing };
  const signed = testClusterCredentials().signHttp({ method: 'PUT', pathAndQuery: chunkPath, headers, body: 'unsigned' });
  const head = [`PUT ${chunkPath} HTTP/1.1`, ...Object.entries({ ...headers, ...signed }).map(([name, value]) => `${name}: ${value}`), '', ''].join('\r\n');
  const socket = connect({ port: Number(target.port), host: target.hostname, allowHalfOpen: true });
  let received = '';
  let failure: Error | undefined;
  let ended = false;
  socket.on('data', (piece: Buffer) => (received += piece.toString('latin1')));
  socket.on('error', (error) => (failure = error));
  socket.on('end', () => (ended = true));
  const answered = () => /\r\n\r\n[\s\S]*\}$/.test(received);
  const bytes = Buffer.alloc(PIECE_BYTES);
  const piece = options.chunked ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) : bytes;
  socket.write(head);
  for (let sent = 0; sent < options.sendBeforeAnswer && !answered() && !failure && !socket.destroyed; sent += bytes.length) {
    if (!socket.write(piece)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), sleep(50)]);
  }
  const sentAt = Date.now();
  while (!answered() && !failure && Date.now() - sentAt < 5_000) await sleep(5);
  for (let i = 0; i < 40 && !failure && !socket.destroyed; i++) {
    socket.write(piece);
    await sleep(5);
  }
  socket.end();
  await sleep(50);
  socket.destroy();
  return { received, failure, ended };
}
