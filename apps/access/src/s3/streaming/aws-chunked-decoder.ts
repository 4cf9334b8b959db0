import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors/s3.errors';
import { hmacSha256, signaturesEqual } from '../auth/signing-key';
import type { ChunkSigningContext, PayloadProtection } from '../auth/sigv4-verifier';
import type { HeaderBag } from '../auth/canonical-request';
import { EMPTY_PAYLOAD_SHA256_HEX } from '../auth/sigv4.constants';
import {
  CHUNK_STRING_TO_SIGN_ALGORITHM,
  MAX_CHUNK_LINE_BYTES,
  MAX_CHUNK_SIZE_BYTES,
  MAX_CHUNK_SIZE_HEX_DIGITS,
  MAX_TRAILER_LINES,
  TRAILER_SIGNATURE_HEADER,
  TRAILER_STRING_TO_SIGN_ALGORITHM,
} from './aws-chunked.constants';

export type AwsChunkedMode =
  | { readonly kind: 'signed'; readonly signing: ChunkSigningContext; readonly trailer: boolean }
  | { readonly kind: 'unsigned-trailer' };

export interface AwsChunkedDecoderOptions {
  readonly mode: AwsChunkedMode;
  /** From `x-amz-decoded-content-length`: the payload length once the framing is removed. */
  readonly decodedContentLengthBytes: number;
}

const CR = 0x0d;
const LF = 0x0a;
const CHUNK_SIGNATURE_EXTENSION = 'chunk-signature=';
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;
const HEX_SIZE_PATTERN = new RegExp(`^[0-9a-fA-F]{1,${MAX_CHUNK_SIZE_HEX_DIGITS}}$`);

type State = 'chunk-header' | 'chunk-data' | 'chunk-data-end' | 'trailer' | 'done';

function malformed(detail: string): S3Error {
  return new S3Error('InvalidRequest', `Malformed aws-chunked body: ${detail}`);
}

/**
 * Decodes an `aws-chunked` body as it streams. Data passes straight through; only one header or
 * trailer line (≤ MAX_CHUNK_LINE_BYTES) is ever held. With signed chunks every chunk's signature
 * is checked, chained from the seed signature, when its data ends: bytes of a chunk are therefore
 * emitted before its signature is known, so the consumer must not commit anything until this
 * stream has ended without error (the write path commits only after the whole body anyway).
 */
export class AwsChunkedDecoder extends Transform {
  private state: State = 'chunk-header';
  private line: Buffer[] = [];
  private lineLengthBytes = 0;
  private chunkRemainingBytes = 0;
  private chunkSignature = '';
  private chunkHash?: Hash;
  private previousSignature: string;
  private decodedBytes = 0;
  private pendingCrLfBytes = 0;
  private trailerLineCount = 0;
  private readonly trailerHeaders = new Map<string, string>();
  private trailerSignature?: string;
  private trailerCanonical = '';

  constructor(private readonly options: AwsChunkedDecoderOptions) {
    super();
    this.previousSignature = options.mode.kind === 'signed' ? options.mode.signing.seedSignature : '';
  }

  /** Trailing headers (lower-case names), e.g. `x-amz-checksum-crc32`; complete once the stream ends. */
  trailers(): ReadonlyMap<string, string> {
    return this.trailerHeaders;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.finish();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case 'chunk-header':
        case 'trailer': {
          const end = this.readLine(chunk, offset);
          if (end === -1) return;
          offset = end;
          const line = this.takeLine();
          if (this.state === 'chunk-header') this.onChunkHeader(line);
          else this.onTrailerLine(line);
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.chunkRemainingBytes, chunk.length - offset);
          const data = chunk.subarray(offset, offset + take);
          this.chunkHash?.update(data);
          this.chunkRemainingBytes -= take;
          this.decodedBytes += take;
          offset += take;
          this.push(data);
          if (this.chunkRemainingBytes === 0) {
            this.state = 'chunk-data-end';
            this.pendingCrLfBytes = 2;
          }
          break;
        }
        case 'chunk-data-end': {
          const expected = this.pendingCrLfBytes === 2 ? CR : LF;
          if (chunk[offset] !== expected) throw malformed('chunk data is not followed by CRLF');
          offset++;
          if (--this.pendingCrLfBytes === 0) {
            this.verifyChunkSignature(this.chunkHash?.digest('hex') ?? '');
            this.state = 'chunk-header';
          }
          break;
        }
        case 'done':
          throw malformed('data after the end of the body');
        default: {
          const unknown: never = this.state;
          throw new Error(`unknown decoder state ${String(unknown)}`);
        }
      }
    }
  }

  /** Appends bytes up to and including LF to the current line; returns the offset after LF, or -1. */
  private readLine(chunk: Buffer, offset: number): number {
    const lf = chunk.indexOf(LF, offset);
    const end = lf === -1 ? chunk.length : lf + 1;
    this.lineLengthBytes += end - offset;
    if (this.lineLengthBytes > MAX_CHUNK_LINE_BYTES + 2) throw malformed(`a line is longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
    this.line.push(chunk.subarray(offset, end));
    return lf === -1 ? -1 : end;
  }

  private takeLine(): string {
    const raw = Buffer.concat(this.line, this.lineLengthBytes);
    this.line = [];
    this.lineLengthBytes = 0;
    if (raw.length < 2 || raw[raw.length - 2] !== CR) throw malformed('a line does not end with CRLF');
    return raw.subarray(0, raw.length - 2).toString('latin1');
  }

  private onChunkHeader(line: string): void {
    const semicolon = line.indexOf(';');
    const sizeText = semicolon === -1 ? line : line.slice(0, semicolon);
    const extension = semicolon === -1 ? undefined : line.slice(semicolon + 1);
    if (!HEX_SIZE_PATTERN.test(sizeText)) throw malformed(`bad chunk size "${sizeText.slice(0, 32)}"`);
    const size = parseInt(sizeText, 16);
    if (size > MAX_CHUNK_SIZE_BYTES) throw malformed(`chunk of ${size} bytes exceeds ${MAX_CHUNK_SIZE_BYTES}`);
    if (this.decodedBytes + size > this.options.decodedContentLengthBytes) {
      throw new S3Error('IncompleteBody', 'The aws-chunked body is longer than x-amz-decoded-content-length.');
    }

    if (this.options.mode.kind === 'signed') {
      if (extension === undefined || !extension.startsWith(CHUNK_SIGNATURE_EXTENSION)) throw malformed('missing chunk-signature');
      const signature = extension.slice(CHUNK_SIGNATURE_EXTENSION.length);
      if (!SIGNATURE_PATTERN.test(signature)) throw new S3Error('SignatureDoesNotMatch', 'The chunk signature is malformed.');
      this.chunkSignature = signature;
      this.chunkHash = createHash('sha256');
    } else if (extension !== undefined) {
      throw malformed('unexpected chunk extension in an unsigned body');
    }

    if (size === 0) {
      if (this.options.mode.kind === 'signed') this.verifyChunkSignature(EMPTY_PAYLOAD_SHA256_HEX);
      this.state = 'trailer';
      return;
    }
    this.chunkRemainingBytes = size;
    this.state = 'chunk-data';
  }

  private verifyChunkSignature(dataSha256Hex: string): void {
    const mode = this.options.mode;
    if (mode.kind !== 'signed') return;
    const { signing } = mode;
    const stringToSign = [CHUNK_STRING_TO_SIGN_ALGORITHM, signing.amzDate, signing.scope, this.previousSignature, EMPTY_PAYLOAD_SHA256_HEX, dataSha256Hex].join('\n');
    const expected = hmacSha256(signing.signingKey, stringToSign).toString('hex');
    if (!signaturesEqual(expected, this.chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    }
    this.previousSignature = expected;
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      this.endTrailer();
      return;
    }
    if (++this.trailerLineCount > MAX_TRAILER_LINES) throw malformed('too many trailing headers');
    if (this.options.mode.kind === 'signed' && !this.options.mode.trailer) throw malformed('trailing headers in a body that declared none');
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('a trailing header has no name');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === TRAILER_SIGNATURE_HEADER) {
      this.trailerSignature = value;
      return;
    }
    if (this.trailerSignature !== undefined) throw malformed('a trailing header follows the trailer signature');
    if (this.trailerHeaders.has(name)) throw malformed(`trailing header ${name} repeated`);
    this.trailerHeaders.set(name, value);
    this.trailerCanonical += `${name}:${value}\n`;
  }

  private endTrailer(): void {
    const mode = this.options.mode;
    if (mode.kind === 'signed' && mode.trailer) {
      if (this.trailerSignature === undefined) throw new S3Error('SignatureDoesNotMatch', 'The trailer signature is missing.');
      const canonicalHash = createHash('sha256').update(this.trailerCanonical, 'utf8').digest('hex');
      const stringToSign = [TRAILER_STRING_TO_SIGN_ALGORITHM, mode.signing.amzDate, mode.signing.scope, this.previousSignature, canonicalHash].join('\n');
      const expected = hmacSha256(mode.signing.signingKey, stringToSign).toString('hex');
      if (!signaturesEqual(expected, this.trailerSignature)) {
        throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
      }
    } else if (this.trailerSignature !== undefined) {
      throw malformed('a trailer signature in a body whose trailer is unsigned');
    }
    this.state = 'done';
  }

  private finish(): void {
    // A final chunk with no trailer may end without its closing CRLF; nothing else may be cut short.
    const endedAfterFinalChunk = this.state === 'trailer' && this.lineLengthBytes === 0 && this.trailerLineCount === 0;
    if (endedAfterFinalChunk) this.endTrailer();
    if (this.state !== 'done') throw new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.');
    if (this.decodedBytes !== this.options.decodedContentLengthBytes) {
      throw new S3Error('IncompleteBody', 'The aws-chunked body is shorter than x-amz-decoded-content-length.');
    }
  }
}

const DECIMAL_LENGTH_PATTERN = /^\d{1,16}$/;

/**
 * The decoder for a request whose payload protection calls for one, or undefined when the body
 * is not aws-chunked. Requires `x-amz-decoded-content-length`.
 */
export function createAwsChunkedDecoder(payload: PayloadProtection, headers: HeaderBag): AwsChunkedDecoder | undefined {
  let mode: AwsChunkedMode;
  if (payload.kind === 'streaming-signed') mode = { kind: 'signed', signing: payload.signing, trailer: payload.trailer };
  else if (payload.kind === 'streaming-unsigned-trailer') mode = { kind: 'unsigned-trailer' };
  else return undefined;
  const raw = headers['x-amz-decoded-content-length'];
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  if (text === undefined || !DECIMAL_LENGTH_PATTERN.test(text)) {
    throw new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header for an aws-chunked body.');
  }
  return new AwsChunkedDecoder({ mode, decodedContentLengthBytes: Number(text) });
}
