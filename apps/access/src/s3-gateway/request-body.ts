import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import {
  S3Error,
  checksumAlgorithmsFor,
  checksumHeaderName,
  createAwsChunkedDecoder,
  parseDeclaredDigests,
  verifyDigests,
  IntegrityHasher,
  type AuthenticatedRequest,
  type ComputedDigests,
  type DeclaredDigests,
  type HeaderBag,
} from '../s3';
import { MAX_XML_BODY_BYTES } from '../s3/xml/request-bodies.parser';

const DECIMAL_LENGTH_PATTERN = /^\d{1,16}$/;

/** A request body on its way in: decoded (aws-chunked), hashed, and checked once consumed. */
export interface RequestBody {
  /** The payload bytes, decoded; consume it once. */
  readonly source: AsyncIterable<Buffer>;
  readonly declared: DeclaredDigests;
  /** The length the client announced for the payload. */
  /** Undefined for a plain `Transfer-Encoding: chunked` body, whose length is known only at its end. */
  readonly expectedSizeBytes: number | undefined;
  /** Whether the caller hashes the body's MD5 itself (option md5Elsewhere) and hands it to `finish`. */
  readonly md5Elsewhere: boolean;
  /**
   * After `source` has been consumed: checks the length and every digest the request declared
   * (Content-MD5, x-amz-checksum-*, trailers, the signed payload hash) and returns the digests.
   * `md5`: the body's MD5 when it was hashed elsewhere.
   */
  finish(md5?: Buffer): ComputedDigests;
}

export interface OpenBodyOptions {
  readonly maxSizeBytes: number;
  /** Extra S3 checksums to compute (e.g. the upload's checksum algorithm). */
  readonly alsoCompute?: readonly ('CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256')[];
  /** Asked with the announced length: true when the caller will hash the body's MD5 itself and hand it to `finish`. */
  readonly md5Elsewhere?: (expectedSizeBytes: number | undefined) => boolean;
}

function single(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value[0];
}

/**
 * Opens the body of an authenticated request. A client that goes away mid-body makes the source
 * throw, so callers never mistake a cut body for a whole one.
 */
export function openRequestBody(req: IncomingMessage, auth: AuthenticatedRequest, options: OpenBodyOptions): RequestBody {
  const headers = req.headers as HeaderBag;
  const declared = parseDeclaredDigests(headers);
  const decoder = createAwsChunkedDecoder(auth.payload, headers);
  const tooLarge = () => new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(options.maxSizeBytes) });

  let expectedSizeBytes: number | undefined;
  if (decoder) {
    expectedSizeBytes = Number(single(headers, 'x-amz-decoded-content-length'));
  } else if (isPlainChunked(headers)) {
    // HTTP/1.1 chunked framing without a length: Node's parser checks the framing and the size
    // limit is enforced as the bytes are stored; a cut body is IncompleteBody (the 'close' below).
    expectedSizeBytes = undefined;
  } else {
    const lengthText = single(headers, 'content-length');
    if (lengthText === undefined || !DECIMAL_LENGTH_PATTERN.test(lengthText.trim())) throw new S3Error('MissingContentLength');
    expectedSizeBytes = Number(lengthText);
  }
  if (expectedSizeBytes !== undefined && expectedSizeBytes > options.maxSizeBytes) throw tooLarge();

  const algorithms = new Set([...checksumAlgorithmsFor(declared), ...(options.alsoCompute ?? [])]);
  const md5Elsewhere = options.md5Elsewhere?.(expectedSizeBytes) === true;
  const hasher = new IntegrityHasher({ checksumAlgorithms: [...algorithms], sha256: declared.contentSha256 !== undefined, md5: !md5Elsewhere });

  let upstream: Readable = req;
  if (decoder) {
    req.pipe(decoder);
    upstream = decoder;
  }
  upstream.pipe(hasher);
  const fail = (error: Error) => hasher.destroy(error);
  if (decoder) decoder.once('error', fail);
  req.once('error', fail);
  // 'close' before the whole body arrived is a client that went away.
  req.once('close', () => {
    if (!req.complete) fail(new S3Error('IncompleteBody', 'The client closed the connection before sending the whole body.'));
  });

  return {
    source: hasher,
    declared,
    expectedSizeBytes,
    md5Elsewhere,
    finish: (md5?: Buffer) => {
      const digests = hasher.result(md5);
      if (expectedSizeBytes !== undefined && digests.sizeBytes !== expectedSizeBytes) throw new S3Error('IncompleteBody');
      const trailerAlgorithm = declared.trailerChecksumAlgorithm;
      const trailerValue = trailerAlgorithm && decoder ? decoder.trailers().get(checksumHeaderName(trailerAlgorithm)) : undefined;
      verifyDigests(declared, digests, trailerValue);
      return digests;
    },
  };
}

/** A body sent with `Transfer-Encoding: chunked` and no Content-Length (Node has already removed the framing). */
function isPlainChunked(headers: HeaderBag): boolean {
  return single(headers, 'content-length') === undefined && /(^|,)\s*chunked\s*$/i.test(single(headers, 'transfer-encoding') ?? '');
}

/** Reads a small body (an XML document) whole, verified, up to `maxSizeBytes`. */
export async function readSmallBody(req: IncomingMessage, auth: AuthenticatedRequest, maxSizeBytes: number): Promise<Buffer> {
  const lengthText = single(req.headers as HeaderBag, 'content-length');
  const chunked = auth.payload.kind === 'streaming-signed' || auth.payload.kind === 'streaming-unsigned-trailer' || isPlainChunked(req.headers as HeaderBag);
  if (!chunked && (lengthText === undefined || lengthText.trim() === '0')) {
    req.resume();
    return Buffer.alloc(0);
  }
  const body = openRequestBody(req, auth, { maxSizeBytes });
  const parts: Buffer[] = [];
  let total = 0;
  for await (const piece of body.source) {
    total += piece.length;
    if (total > maxSizeBytes) throw new S3Error('MaxMessageLengthExceeded');
    parts.push(piece);
  }
  body.finish();
  return Buffer.concat(parts, total);
}

/**
 * Reads an XML request body whole (every XML endpoint: DeleteObjects, CompleteMultipartUpload,
 * tagging, versioning, CreateBucketConfiguration, ACLs). One over MAX_XML_BODY_BYTES, declared or
 * sent, is MalformedXML as S3 answers an oversized document; the parser bounds the rest.
 */
export async function readXmlBody(req: IncomingMessage, auth: AuthenticatedRequest): Promise<Buffer> {
  try {
    return await readSmallBody(req, auth, MAX_XML_BODY_BYTES);
  } catch (error) {
    if (error instanceof S3Error && (error.code === 'EntityTooLarge' || error.code === 'MaxMessageLengthExceeded')) {
      throw new S3Error('MalformedXML', `The XML you provided was larger than ${MAX_XML_BODY_BYTES} bytes.`);
    }
    throw error;
  }
}
