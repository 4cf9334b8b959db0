import { createHash } from 'node:crypto';
import { S3Error } from '../errors/s3.errors';
import { checksumAlgorithmsFor, checksumResponseHeaders, decodeStrictBase64, parseDeclaredDigests, verifyDigests } from './checksum-checker';
import type { ComputedDigests } from './integrity-hasher';
import { codeOf } from '../../testing/s3-error-code';

const body = Buffer.from('hello world');
const md5 = createHash('md5').update(body).digest();
const sha256 = createHash('sha256').update(body).digest();
const crc32 = Buffer.from('0d4a1185', 'hex');
const computed: ComputedDigests = { sizeBytes: body.length, md5, sha256, checksums: { CRC32: crc32, SHA256: sha256 } };

describe('decodeStrictBase64', () => {
  it('accepts padded base64 of the exact length only', () => {
    expect(decodeStrictBase64(md5.toString('base64'), 16)?.equals(md5)).toBe(true);
    expect(decodeStrictBase64(md5.toString('base64'), 20)).toBeUndefined();
    expect(decodeStrictBase64(md5.toString('base64').replace(/=+$/, ''), 16)).toBeUndefined();
    expect(decodeStrictBase64('!!!notbase64!!!!', 12)).toBeUndefined();
    expect(decodeStrictBase64(md5.toString('base64url'), 16)).toBeUndefined();
  });
});

describe('parseDeclaredDigests + verifyDigests', () => {
  it('passes when Content-MD5, a checksum header and the hex payload hash all match', () => {
    const declared = parseDeclaredDigests({
      'content-md5': md5.toString('base64'),
      'x-amz-checksum-crc32': crc32.toString('base64'),
      'x-amz-content-sha256': sha256.toString('hex'),
    });
    expect(checksumAlgorithmsFor(declared)).toEqual(['CRC32']);
    expect(() => verifyDigests(declared, computed)).not.toThrow();
  });

  it('answers InvalidDigest for a malformed Content-MD5 and BadDigest for a wrong one', () => {
    expect(codeOf(() => parseDeclaredDigests({ 'content-md5': 'abc' }))).toBe('InvalidDigest');
    expect(codeOf(() => parseDeclaredDigests({ 'content-md5': Buffer.alloc(15).toString('base64') }))).toBe('InvalidDigest');
    const wrong = parseDeclaredDigests({ 'content-md5': Buffer.alloc(16).toString('base64') });
    expect(codeOf(() => verifyDigests(wrong, computed))).toBe('BadDigest');
  });

  it('answers BadDigest for a checksum that does not match and InvalidRequest for one that is malformed', () => {
    const wrong = parseDeclaredDigests({ 'x-amz-checksum-crc32': 'AAAAAA==' });
    expect(codeOf(() => verifyDigests(wrong, computed))).toBe('BadDigest');
    expect(codeOf(() => parseDeclaredDigests({ 'x-amz-checksum-crc32': 'AAAAAAAA' }))).toBe('InvalidRequest');
    expect(codeOf(() => parseDeclaredDigests({ 'x-amz-checksum-sha1': 'AAAAAA==' }))).toBe('InvalidRequest');
  });

  it('refuses two checksum headers, or a trailer plus a header, or an SDK algorithm that disagrees', () => {
    const crc = crc32.toString('base64');
    expect(codeOf(() => parseDeclaredDigests({ 'x-amz-checksum-crc32': crc, 'x-amz-checksum-crc32c': crc }))).toBe('InvalidRequest');
    expect(codeOf(() => parseDeclaredDigests({ 'x-amz-checksum-crc32': crc, 'x-amz-trailer': 'x-amz-checksum-crc32' }))).toBe('InvalidRequest');
    expect(codeOf(() => parseDeclaredDigests({ 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'SHA1' }))).toBe('InvalidRequest');
    expect(codeOf(() => parseDeclaredDigests({ 'x-amz-trailer': 'x-amz-meta-foo' }))).toBe('InvalidRequest');
  });

  it('answers XAmzContentSHA256Mismatch with both hashes when the hex payload hash differs', () => {
    const declared = parseDeclaredDigests({ 'x-amz-content-sha256': 'ab'.repeat(32) });
    try {
      verifyDigests(declared, computed);
      throw new Error('expected a mismatch');
    } catch (error) {
      expect(error).toBeInstanceOf(S3Error);
      expect((error as S3Error).code).toBe('XAmzContentSHA256Mismatch');
      expect((error as S3Error).details['S3ComputedContentSHA256']).toBe(sha256.toString('hex'));
    }
  });

  it('ignores the UNSIGNED/STREAMING markers in x-amz-content-sha256', () => {
    expect(parseDeclaredDigests({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }).contentSha256).toBeUndefined();
    expect(parseDeclaredDigests({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }).contentSha256).toBeUndefined();
  });

  it('checks a trailing checksum named by x-amz-trailer', () => {
    const declared = parseDeclaredDigests({ 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm': 'crc32' });
    expect(checksumAlgorithmsFor(declared)).toEqual(['CRC32']);
    expect(() => verifyDigests(declared, computed, crc32.toString('base64'))).not.toThrow();
    expect(codeOf(() => verifyDigests(declared, computed, 'AAAAAA=='))).toBe('BadDigest');
    expect(codeOf(() => verifyDigests(declared, computed, undefined))).toBe('InvalidRequest');
    expect(codeOf(() => verifyDigests(declared, computed, 'zz'))).toBe('InvalidRequest');
  });

  it('renders stored checksums as S3 response headers', () => {
    expect(checksumResponseHeaders({ CRC32: crc32 })).toEqual({ 'x-amz-checksum-crc32': crc32.toString('base64') });
  });
});
