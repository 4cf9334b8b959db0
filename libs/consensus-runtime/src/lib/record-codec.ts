import { crc32 } from 'node:zlib';

/**
 * On-disk record framing shared by the log segments and snapshot files:
 *   [u32 payload length][u32 CRC32 of payload][payload: UTF-8 JSON]
 * A record is valid only if all of it is present and its CRC matches.
 */
export const RECORD_HEADER_BYTES = 8;
/** A record larger than this is corrupt by definition (a torn length field reads as garbage). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export function encodeRecord(payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  if (body.length > MAX_RECORD_BYTES) throw new RangeError(`record of ${body.length} bytes exceeds ${MAX_RECORD_BYTES}`);
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([header, body]);
}

export type DecodeResult =
  | { readonly kind: 'record'; readonly payload: unknown; readonly nextOffset: number }
  | { readonly kind: 'end' }
  /** Not enough bytes for the record the header announces: a write that never finished. */
  | { readonly kind: 'torn' }
  | { readonly kind: 'corrupt'; readonly reason: string };

export function decodeRecord(buffer: Buffer, offset: number): DecodeResult {
  if (offset === buffer.length) return { kind: 'end' };
  if (buffer.length - offset < RECORD_HEADER_BYTES) return { kind: 'torn' };
  const length = buffer.readUInt32LE(offset);
  const crc = buffer.readUInt32LE(offset + 4);
  if (length > MAX_RECORD_BYTES) return { kind: 'corrupt', reason: `record length ${length} exceeds the bound` };
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > buffer.length) return { kind: 'torn' };
  const body = buffer.subarray(offset + RECORD_HEADER_BYTES, end);
  if (crc32(body) !== crc) return { kind: 'corrupt', reason: `CRC mismatch at offset ${offset}` };
  try {
    return { kind: 'record', payload: JSON.parse(body.toString('utf8')), nextOffset: end };
  } catch {
    return { kind: 'corrupt', reason: `unparseable record at offset ${offset}` };
  }
}
