import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { REQUEST_ID_HEADER } from '../logging/request-id';

/**
 * A request refused before any middleware or route could see it: Node's HTTP parser found it
 * malformed (request line, header syntax, Content-Length, chunk sizes), its header section larger
 * than the server takes, or it did not arrive whole in time; or its method was CONNECT, which no
 * Cairn service serves.
 */
export interface UnparsableRequest {
  /** What Node itself would answer: 400, 408 (headers too slow), 413 (chunk extensions), 431 (header section too large), or 405 (CONNECT). */
  readonly status: number;
  /** Node's error code (e.g. HPE_INVALID_HEADER_TOKEN, HPE_HEADER_OVERFLOW, ERR_HTTP_REQUEST_TIMEOUT), or CONNECT. */
  readonly reason: string;
}

/** A service's answer to an UnparsableRequest, in its own error format. */
export interface UnparsableRequestAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type AnswerUnparsableRequest = (refusal: UnparsableRequest) => UnparsableRequestAnswer;

const STATUS_BY_PARSER_CODE: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};
const HTTP_BAD_REQUEST = 400;
const HTTP_METHOD_NOT_ALLOWED = 405;
export const CONNECT_REASON = 'CONNECT';

/** The service error JSON's code for each status an unparsable request is refused with. */
const JSON_CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'MALFORMED_REQUEST',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  431: 'HEADERS_TOO_LARGE',
};

/** The default answer: the service error JSON `{ code, message, requestId }` with Node's status. */
export function answerUnparsableRequestAsJson(refusal: UnparsableRequest): UnparsableRequestAnswer {
  const requestId = randomUUID();
  const body = JSON.stringify({
    code: JSON_CODE_BY_STATUS[refusal.status] ?? JSON_CODE_BY_STATUS[HTTP_BAD_REQUEST],
    message: refusal.reason === CONNECT_REASON ? 'CONNECT is not served here' : `the request could not be read as HTTP/1.1 (${refusal.reason})`,
    requestId,
  });
  return { status: refusal.status, contentType: 'application/json; charset=utf-8', body, headers: { [REQUEST_ID_HEADER]: requestId } };
}

function writeAnswer(socket: Duplex, answer: UnparsableRequestAnswer): void {
  const body = Buffer.from(answer.body, 'utf8');
  const headers = { ...answer.headers, 'Content-Type': answer.contentType, 'Content-Length': String(body.length), Connection: 'close' };
  const head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/**
 * Answers what Node's HTTP server would refuse with a bare status line (and CONNECT, which it
 * would drop without a word) in the service's error format, then closes the connection as Node
 * does. Like Node's own handler, it writes only where no answer to an earlier request on the
 * connection has started, so a pipelined client never gets a corrupted stream.
 */
export function answerUnparsableRequests(server: EventEmitter, answer: AnswerUnparsableRequest = answerUnparsableRequestAsJson): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && (!inFlight || !inFlight._headerSent)) {
      const code = error.code ?? 'HPE_UNKNOWN';
      writeAnswer(socket, answer({ status: STATUS_BY_PARSER_CODE[code] ?? HTTP_BAD_REQUEST, reason: code }));
    }
    socket.destroy();
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    if (socket.writable) writeAnswer(socket, answer({ status: HTTP_METHOD_NOT_ALLOWED, reason: CONNECT_REASON }));
    socket.destroy();
  });
}
