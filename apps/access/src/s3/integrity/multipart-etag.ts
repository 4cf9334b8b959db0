import { createHash } from 'node:crypto';
import { createDigest, type ChecksumAlgorithm } from './checksum-algorithms';

/** S3's ETag for a single-part object: the hex MD5 of its bytes. */
export function singlePartEtag(md5: Buffer): string {
  return md5.toString('hex');
}

/** S3's multipart ETag: hex MD5 of the concatenated binary part MD5s, then `-<part count>`. */
export function multipartEtag(partMd5s: readonly Buffer[]): string {
  const hash = createHash('md5');
  for (const md5 of partMd5s) hash.update(md5);
  return `${hash.digest('hex')}-${partMd5s.length}`;
}

/** Parses a part ETag (hex MD5, with or without quotes) back to bytes; undefined if it is not one. */
export function md5FromEtag(etag: string): Buffer | undefined {
  const hex = etag.trim().replace(/^"|"$/g, '');
  return /^[0-9a-f]{32}$/i.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/**
 * A COMPOSITE multipart checksum as S3 reports it: the checksum of the concatenated binary part
 * checksums, base64, then `-<part count>`.
 */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: readonly Buffer[]): string {
  const digest = createDigest(algorithm);
  for (const checksum of partChecksums) digest.update(checksum);
  return `${digest.digest().toString('base64')}-${partChecksums.length}`;
}
