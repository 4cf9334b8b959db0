import {
  ContentHeaderNames,
  MetadataErrorCodes,
  MetadataLimits,
  StorageClasses,
  type ChunkRef,
  type ContentHeaders,
  type StorageClass,
  type Tag,
  type UserMetadata,
} from '@cairn/protocol';
import { utf8ByteLength } from '@cairn/key-reads';
import { MetadataError } from './metadata.errors';

const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
const MD5_HEX_PATTERN = /^[0-9a-f]{32}$/;
const AWS_RESERVED_TAG_PREFIX = 'aws:';

/** Shared with the gateway's direct reads (@cairn/key-reads). */
export { utf8ByteLength, validateObjectKey } from '@cairn/key-reads';

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX_PATTERN.test(value);
}

export function isMd5Hex(value: string): boolean {
  return MD5_HEX_PATTERN.test(value);
}

/** ETags travel quoted in HTTP headers; compare them without quotes or a weak prefix. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export function validateStorageClass(value: string): StorageClass {
  if (!(StorageClasses as readonly string[]).includes(value)) {
    throw new MetadataError(MetadataErrorCodes.InvalidStorageClass, `unknown storage class "${value}"`);
  }
  return value as StorageClass;
}

export function validateTags(tags: readonly Tag[], maxTags: number): void {
  if (tags.length > maxTags) throw new MetadataError(MetadataErrorCodes.InvalidTag, `at most ${maxTags} tags are allowed`);
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (key.length === 0 || key.length > MetadataLimits.tagKeyMaxChars) {
      throw new MetadataError(MetadataErrorCodes.InvalidTag, `tag keys are 1 to ${MetadataLimits.tagKeyMaxChars} characters`);
    }
    if (value.length > MetadataLimits.tagValueMaxChars) {
      throw new MetadataError(MetadataErrorCodes.InvalidTag, `tag values are at most ${MetadataLimits.tagValueMaxChars} characters`);
    }
    if (key.toLowerCase().startsWith(AWS_RESERVED_TAG_PREFIX)) {
      throw new MetadataError(MetadataErrorCodes.InvalidTag, `tag keys may not start with "${AWS_RESERVED_TAG_PREFIX}"`);
    }
    if (seen.has(key)) throw new MetadataError(MetadataErrorCodes.InvalidTag, `tag key "${key}" appears twice`);
    seen.add(key);
  }
}

export function validateUserMetadata(metadata: UserMetadata): void {
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) bytes += utf8ByteLength(name) + utf8ByteLength(value);
  if (bytes > MetadataLimits.userMetadataMaxBytes) {
    throw new MetadataError(MetadataErrorCodes.MetadataTooLarge, `user metadata is larger than ${MetadataLimits.userMetadataMaxBytes} bytes`);
  }
}

/** The transfer encoding of a chunked upload: never a stored Content-Encoding. */
const AWS_CHUNKED_ENCODING = 'aws-chunked';

/**
 * Only S3's stored content headers (lower-case names, ContentHeaderNames), as non-empty text, within
 * MetadataLimits.contentHeadersMaxBytes together, and no `aws-chunked` in Content-Encoding.
 */
export function validateContentHeaders(headers: ContentHeaders): void {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!(ContentHeaderNames as readonly string[]).includes(name)) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${name}" is not a stored content header`);
    }
    if (typeof value !== 'string' || value.length === 0) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `content header ${name} must be non-empty text`);
    }
    bytes += utf8ByteLength(name) + utf8ByteLength(value);
  }
  if (bytes > MetadataLimits.contentHeadersMaxBytes) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `content headers are larger than ${MetadataLimits.contentHeadersMaxBytes} bytes`);
  }
  const encodings = (headers['content-encoding'] ?? '').split(',').map((e) => e.trim().toLowerCase());
  if (encodings.includes(AWS_CHUNKED_ENCODING)) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${AWS_CHUNKED_ENCODING}" is a transfer encoding, not a stored Content-Encoding`);
  }
}

/**
 * A multipart version's part sizes: 1 to MetadataLimits.partNumberMax byte counts, summing to the
 * version's size, as many as its multipart etag (`<hex>-<parts>`) says.
 */
export function validatePartSizes(partSizes: readonly number[], sizeBytes: number, etag: string): void {
  if (partSizes.length < MetadataLimits.partNumberMin || partSizes.length > MetadataLimits.partNumberMax) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `a version has ${MetadataLimits.partNumberMin} to ${MetadataLimits.partNumberMax} parts, not ${partSizes.length}`);
  }
  let total = 0;
  for (const size of partSizes) {
    if (!Number.isSafeInteger(size) || size < 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `part size ${size} is not a byte count`);
    total += size;
  }
  if (total !== sizeBytes) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `parts of ${total} bytes make no ${sizeBytes}-byte version`);
  if (!etag.endsWith(`-${partSizes.length}`)) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `etag ${etag} is not the etag of a ${partSizes.length}-part version`);
  }
}

/** A chunk list tiles the body exactly: contiguous from offset 0, sizes summing to the body's size. */
export function validateChunks(chunks: readonly ChunkRef[], sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `size ${sizeBytes} is not a byte count`);
  }
  if (sizeBytes > MetadataLimits.objectSizeMaxBytes) {
    throw new MetadataError(MetadataErrorCodes.EntityTooLarge, `size ${sizeBytes} exceeds ${MetadataLimits.objectSizeMaxBytes} bytes`);
  }
  if (chunks.length > MetadataLimits.chunksPerVersionMax) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `more than ${MetadataLimits.chunksPerVersionMax} chunks`);
  }
  let expectedOffsetBytes = 0;
  for (const chunk of chunks) {
    if (!isSha256Hex(chunk.hash)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `chunk hash "${chunk.hash}" is not SHA-256 hex`);
    if (chunk.offsetBytes !== expectedOffsetBytes) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `chunk at offset ${chunk.offsetBytes} should start at ${expectedOffsetBytes}`);
    }
    if (!Number.isSafeInteger(chunk.sizeBytes) || chunk.sizeBytes <= 0) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `chunk size ${chunk.sizeBytes} is not a positive byte count`);
    }
    if (chunk.inline !== undefined) validateInlineChunk(chunk.inline, chunk.sizeBytes);
    expectedOffsetBytes += chunk.sizeBytes;
  }
  if (expectedOffsetBytes !== sizeBytes) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `chunks cover ${expectedOffsetBytes} bytes of a ${sizeBytes}-byte body`);
  }
}

// One character class, no groups: linear on every inline body; the length check below does the rest.
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Whether `text` is padded base64 in the standard alphabet (length a multiple of 4, at most two '='
 * at the end). Base64 that Node writes itself back the same is such text, and that round trip is
 * native and ~2-3x cheaper than the pattern over a 4 KiB body, so it answers what every writer sends;
 * anything else (e.g. unused low bits set in the last character) still gets the pattern's answer.
 */
export function isPaddedBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  if (Buffer.from(text, 'base64').toString('base64') === text) return true;
  return BASE64_PATTERN.test(text);
}

/** Inline bytes are canonical base64 of exactly the chunk's size, and no larger than metadata keeps. */
function validateInlineChunk(inline: string, sizeBytes: number): void {
  if (sizeBytes > MetadataLimits.inlineChunkMaxBytes) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `an inline chunk holds at most ${MetadataLimits.inlineChunkMaxBytes} bytes, not ${sizeBytes}`);
  }
  // Padded base64 of sizeBytes bytes is 4 characters per 3 bytes begun: a longer or shorter text fails before it is decoded.
  const canonical = typeof inline === 'string' && inline.length === 4 * Math.ceil(sizeBytes / 3) && isPaddedBase64(inline);
  const padding = !canonical ? 0 : inline.endsWith('==') ? 2 : inline.endsWith('=') ? 1 : 0;
  if (!canonical || (inline.length / 4) * 3 - padding !== sizeBytes) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `inline chunk bytes are not base64 of ${sizeBytes} bytes`);
  }
}

/**
 * Refuses a command holding NUL (U+0000) in any string, names included, before it becomes an event:
 * Postgres can store NUL in neither text nor jsonb, so one such event stopped its stream's
 * projection for good (a tag value written as `&#0;` in XML made every later write 503), and S3's
 * XML cannot carry it back either. Iterative: a command nests as deep as a client made it.
 */
export function refuseNul(command: unknown): void {
  const pending: unknown[] = [command];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'text in a request cannot contain NUL (U+0000)');
    } else if (value !== null && typeof value === 'object') {
      for (const [name, child] of Object.entries(value)) pending.push(name, child);
    }
  }
}

export function requireText(value: string, what: string): void {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `${what} is empty`);
  }
}
