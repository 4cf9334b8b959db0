import { crc32 } from 'node:zlib';
import { crc32c } from '@aws-crypto/crc32c';
import fc from 'fast-check';
import { combineCrc, type CombinableCrc } from './crc-combine';

/** Bit-at-a-time CRC-64/NVME: slow, obviously right (checked against the catalogue's check value). */
function crc64nvme(bytes: Uint8Array): bigint {
  let crc = 0xffffffffffffffffn;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  return crc ^ 0xffffffffffffffffn;
}

const uint32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
};
const uint64 = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return bytes;
};

const CRCS: Record<CombinableCrc, (bytes: Buffer) => Buffer> = {
  crc32: (bytes) => uint32(crc32(bytes)),
  crc32c: (bytes) => uint32(crc32c(bytes)),
  crc64nvme: (bytes) => uint64(crc64nvme(bytes)),
};

describe('combineCrc', () => {
  it('uses a CRC-64/NVME reference that meets the check value', () => {
    expect(crc64nvme(Buffer.from('123456789')).toString(16)).toBe('ae8b14860a799888');
  });

  it.each(Object.keys(CRCS) as CombinableCrc[])('gives the %s of a + b from the CRCs of a and b and the length of b', (kind) => {
    const crc = CRCS[kind];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        const [first, second] = [Buffer.from(a), Buffer.from(b)];
        expect(combineCrc(kind, crc(first), crc(second), second.length).equals(crc(Buffer.concat([first, second])))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  // The bit-at-a-time CRC-64 reference is too slow for megabytes; the 32-bit ones have fast references.
  it.each(['crc32', 'crc32c'] as const)('folds the %s over many parts, multi-megabyte ones included', (kind) => {
    const parts = [Buffer.alloc(5 * 1024 * 1024, 7), Buffer.from('middle'), Buffer.alloc(70_000, 255)];
    const crc = CRCS[kind];
    const folded = parts.slice(1).reduce((acc, part) => combineCrc(kind, acc, crc(part), part.length), crc(parts[0]));
    expect(folded.equals(crc(Buffer.concat(parts)))).toBe(true);
  });
});
