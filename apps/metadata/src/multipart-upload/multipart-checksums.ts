import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32c } from '@aws-crypto/crc32c';
import { combineCrc, type CombinableCrc } from '@cairn/hashing';
import type { Checksums, UploadChecksum } from '@cairn/protocol';

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

export interface ChecksummedPart {
  readonly sizeBytes: number;
  readonly checksums: Checksums;
}

/**
 * A completed multipart object's checksums. An upload created for a FULL_OBJECT CRC gets the CRC of
 * the whole object, combined from its parts' CRCs and sizes (no byte read again); otherwise it gets
 * S3's composite checksums of what every part has.
 */
export function multipartChecksums(checksum: UploadChecksum | undefined, parts: readonly ChecksummedPart[]): Checksums {
  if (checksum?.type !== 'FULL_OBJECT') return compositeChecksums(parts.map((p) => p.checksums));
  const algorithm = checksum.algorithm as CombinableCrc;
  const crcs = parts.map((p) => p.checksums[algorithm]);
  if (parts.length === 0 || crcs.some((crc) => crc === undefined)) return {};
  let whole = Buffer.from(crcs[0] as string, 'base64');
  for (let i = 1; i < parts.length; i++) whole = combineCrc(algorithm, whole, Buffer.from(crcs[i] as string, 'base64'), parts[i].sizeBytes);
  return { [algorithm]: whole.toString('base64') } as Checksums;
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}
