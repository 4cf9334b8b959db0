import { crc32 } from 'node:zlib';
import type { ContentHash } from '@cairn/hashing';

/**
 * A record in an append-only pack file (schema version 1):
 *
 *   magic u32 | version u8 | kind u8 | reserved u16 | length u32 | sha256 [32] | crc32 u32 | data
 *
 * The CRC covers the header before it and the data, so a record torn by a crash is recognised
 * and cut off on recovery. A tombstone (kind 1, no data) records the deletion of a packed chunk.
 */
export const PACK_RECORD_MAGIC = 0x43504b31; // "CPK1"
export const PACK_RECORD_VERSION = 1;
export const PACK_RECORD_HEADER_BYTES = 48;
const CRC_OFFSET = 44;

export const PackRecordKind = { Chunk: 0, Tombstone: 1 } as const;
export type PackRecordKind = (typeof PackRecordKind)[keyof typeof PackRecordKind];

export interface PackRecordHeader {
  readonly kind: PackRecordKind;
  readonly hash: ContentHash;
  readonly lengthBytes: number;
  readonly crc: number;
}

export function encodePackRecord(kind: PackRecordKind, hash: ContentHash, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PACK_RECORD_HEADER_BYTES + data.byteLength);
  out.writeUInt32BE(PACK_RECORD_MAGIC, 0);
  out.writeUInt8(PACK_RECORD_VERSION, 4);
  out.writeUInt8(kind, 5);
  out.writeUInt16BE(0, 6);
  out.writeUInt32BE(data.byteLength, 8);
  out.write(hash, 12, 32, 'hex');
  out.set(data, PACK_RECORD_HEADER_BYTES);
  out.writeUInt32BE(recordCrc(out.subarray(0, CRC_OFFSET), out.subarray(PACK_RECORD_HEADER_BYTES)), CRC_OFFSET);
  return out;
}

/** The header, or null when these bytes are not the start of a valid record. */
export function decodePackRecordHeader(header: Buffer, maxLengthBytes: number): PackRecordHeader | null {
  if (header.length < PACK_RECORD_HEADER_BYTES) return null;
  if (header.readUInt32BE(0) !== PACK_RECORD_MAGIC || header.readUInt8(4) !== PACK_RECORD_VERSION) return null;
  const kind = header.readUInt8(5);
  if (kind !== PackRecordKind.Chunk && kind !== PackRecordKind.Tombstone) return null;
  const lengthBytes = header.readUInt32BE(8);
  if (lengthBytes > maxLengthBytes || (kind === PackRecordKind.Tombstone && lengthBytes !== 0)) return null;
  return { kind, hash: header.toString('hex', 12, 44) as ContentHash, lengthBytes, crc: header.readUInt32BE(CRC_OFFSET) };
}

export function packRecordIntact(header: Buffer, data: Uint8Array, expectedCrc: number): boolean {
  return recordCrc(header.subarray(0, CRC_OFFSET), data) === expectedCrc;
}

function recordCrc(headerBeforeCrc: Uint8Array, data: Uint8Array): number {
  return crc32(data, crc32(headerBeforeCrc));
}

/** Where a live packed chunk's bytes are. */
export interface PackIndexEntry {
  readonly packId: number;
  readonly dataOffset: number;
  readonly lengthBytes: number;
  readonly crc: number;
  readonly recordOffset: number;
}
