import { S3Error } from '../errors/s3.errors';
import {
  CHECKSUM_ALGORITHMS,
  CHECKSUM_DIGEST_LENGTH_BYTES,
  checksumHeaderName,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from './checksum-algorithms';
import type { ComputedDigests } from './integrity-hasher';
import type { HeaderBag } from '../auth/canonical-request';

const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/i;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;


/** The digests a request declares for its payload, validated for form but not yet compared. */
export interface DeclaredDigests {
  readonly contentMd5?: Buffer;
  /** From an `x-amz-checksum-*` header. */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly value: Buffer };
  /** Named by `x-amz-trailer`: the value arrives in the aws-chunked trailer. */
  readonly trailerChecksumAlgorithm?: ChecksumAlgorithm;
  /** From `x-amz-sdk-checksum-algorithm`. */
  readonly sdkChecksumAlgorithm?: ChecksumAlgorithm;
  /** A hex `x-amz-content-sha256` (not one of the UNSIGNED/STREAMING markers). */
  readonly contentSha256?: Buffer;
}

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

/** Decodes strict, padded base64 of exactly `lengthBytes` bytes, or returns undefined. */
export function decodeStrictBase64(value: string, lengthBytes: number): Buffer | undefined {
  const trimmed = value.trim();
  if (!BASE64_PATTERN.test(trimmed)) return undefined;
  const decoded = Buffer.from(trimmed, 'base64');
  return decoded.length === lengthBytes ? decoded : undefined;
}

export function parseDeclaredDigests(headers: HeaderBag): DeclaredDigests {
  const md5Header = header(headers, 'content-md5');
  let contentMd5: Buffer | undefined;
  if (md5Header !== undefined) {
    contentMd5 = decodeStrictBase64(md5Header, CHECKSUM_DIGEST_LENGTH_BYTES.MD5);
    if (!contentMd5) throw new S3Error('InvalidDigest');
  }

  const present = CHECKSUM_ALGORITHMS.filter((algorithm) => header(headers, checksumHeaderName(algorithm)) !== undefined);
  if (present.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  let checksum: DeclaredDigests['checksum'];
  if (present.length === 1) {
    const algorithm = present[0];
    const raw = header(headers, checksumHeaderName(algorithm)) as string;
    const value = decodeStrictBase64(raw, CHECKSUM_DIGEST_LENGTH_BYTES[algorithm]);
    // S3 answers InvalidRequest (not InvalidDigest) for a malformed x-amz-checksum-* value.
    if (!value) throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(algorithm)} header is invalid.`);
    checksum = { algorithm, value };
  }

  const sdkHeader = header(headers, 'x-amz-sdk-checksum-algorithm');
  let sdkChecksumAlgorithm: ChecksumAlgorithm | undefined;
  if (sdkHeader !== undefined) {
    sdkChecksumAlgorithm = parseChecksumAlgorithm(sdkHeader.trim());
    if (!sdkChecksumAlgorithm) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }

  const trailerHeader = header(headers, 'x-amz-trailer');
  let trailerChecksumAlgorithm: ChecksumAlgorithm | undefined;
  if (trailerHeader !== undefined) {
    const name = trailerHeader.trim().toLowerCase();
    trailerChecksumAlgorithm = name.startsWith('x-amz-checksum-') ? parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length)) : undefined;
    if (!trailerChecksumAlgorithm) throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    if (checksum) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }

  const declaredAlgorithm = checksum?.algorithm ?? trailerChecksumAlgorithm;
  if (sdkChecksumAlgorithm && declaredAlgorithm && sdkChecksumAlgorithm !== declaredAlgorithm) {
    throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }

  const sha256Header = header(headers, 'x-amz-content-sha256');
  const contentSha256 =
    sha256Header !== undefined && SHA256_HEX_PATTERN.test(sha256Header.trim()) ? Buffer.from(sha256Header.trim(), 'hex') : undefined;

  return { contentMd5, checksum, trailerChecksumAlgorithm, sdkChecksumAlgorithm, contentSha256 };
}

/** The S3 checksums that must be computed over the payload to answer `declared`. */
export function checksumAlgorithmsFor(declared: DeclaredDigests): readonly ChecksumAlgorithm[] {
  const algorithm = declared.checksum?.algorithm ?? declared.trailerChecksumAlgorithm ?? declared.sdkChecksumAlgorithm;
  return algorithm ? [algorithm] : [];
}

/**
 * Compares what the body hashed to with what the request declared. `trailerValue` is the base64
 * checksum read from an aws-chunked trailer, if the request named one in `x-amz-trailer`.
 */
export function verifyDigests(declared: DeclaredDigests, computed: ComputedDigests, trailerValue?: string): void {
  if (declared.contentSha256) {
    if (!computed.sha256) throw new Error('verifyDigests: the payload SHA-256 was not computed');
    if (!computed.sha256.equals(declared.contentSha256)) {
      throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
        ClientComputedContentSHA256: declared.contentSha256.toString('hex'),
        S3ComputedContentSHA256: computed.sha256.toString('hex'),
      });
    }
  }
  if (declared.contentMd5 && !declared.contentMd5.equals(computed.md5)) {
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
      ExpectedDigest: declared.contentMd5.toString('base64'),
      CalculatedDigest: computed.md5.toString('base64'),
    });
  }
  if (declared.checksum) compareChecksum(declared.checksum.algorithm, declared.checksum.value, computed);
  if (declared.trailerChecksumAlgorithm) {
    const algorithm = declared.trailerChecksumAlgorithm;
    if (trailerValue === undefined) throw new S3Error('InvalidRequest', `The trailer ${checksumHeaderName(algorithm)} is missing.`);
    const value = decodeStrictBase64(trailerValue, CHECKSUM_DIGEST_LENGTH_BYTES[algorithm]);
    if (!value) throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(algorithm)} trailing header is invalid.`);
    compareChecksum(algorithm, value, computed);
  }
}

function compareChecksum(algorithm: ChecksumAlgorithm, expected: Buffer, computed: ComputedDigests): void {
  const actual = computed.checksums[algorithm];
  if (!actual) throw new Error(`verifyDigests: the ${algorithm} checksum was not computed`);
  if (!actual.equals(expected)) {
    throw new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
  }
}

/** The response headers S3 returns for the checksums it stored (`x-amz-checksum-crc32: <base64>`). */
export function checksumResponseHeaders(checksums: Readonly<Partial<Record<ChecksumAlgorithm, Buffer>>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = checksums[algorithm];
    if (value) headers[checksumHeaderName(algorithm)] = value.toString('base64');
  }
  return headers;
}
