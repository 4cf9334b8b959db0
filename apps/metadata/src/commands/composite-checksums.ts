import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32c } from '@aws-crypto/crc32c';
import type { Checksums } from '@cairn/protocol';

/** The algorithms S3 makes composite checksums of (CRC64NVME is full-object only). */
const COMPOSITE: ReadonlyArray<readonly [keyof Checksums, (bytes: Buffer) => Buffer]> = [
  ['crc32', (bytes) => uint32(crc32(bytes))],
  ['crc32c', (bytes) => uint32(crc32c(bytes))],
  ['sha1', (bytes) => createHash('sha1').update(bytes).digest()],
  ['sha256', (bytes) => createHash('sha256').update(bytes).digest()],
];

/**
 * S3's checksums of a multipart object, for each algorithm every part was uploaded with: the
 * algorithm over the parts' checksums (raw bytes, in part order), base64, then `-<part count>`.
 */
export function compositeChecksums(parts: readonly Checksums[]): Checksums {
  const result: Record<string, string> = {};
  for (const [field, checksum] of COMPOSITE) {
    const values = parts.map((p) => p[field]);
    if (parts.length === 0 || values.some((v) => v === undefined)) continue;
    const joined = Buffer.concat(values.map((v) => Buffer.from(v as string, 'base64')));
    result[field] = `${checksum(joined).toString('base64')}-${parts.length}`;
  }
  return result as Checksums;
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}
