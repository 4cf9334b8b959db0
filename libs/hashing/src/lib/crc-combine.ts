/**
 * The CRC of two byte strings one after the other, from the CRC of each and the second's length,
 * without the bytes: what lets a multipart object have a whole-object CRC (S3's FULL_OBJECT
 * checksum type) computed from its parts' CRCs. The method is zlib's crc32_combine (multiplying by
 * the matrix of "append one zero bit", squared for each bit of the length) generalised to any
 * reflected CRC whose init and final xor are all ones: CRC-32, CRC-32C and CRC-64/NVME.
 */
export const CombinableCrcs = {
  crc32: { width: 32, reflectedPoly: 0xedb88320n },
  crc32c: { width: 32, reflectedPoly: 0x82f63b78n },
  crc64nvme: { width: 64, reflectedPoly: 0x9a6c9329ac4bc9b5n },
} as const;
export type CombinableCrc = keyof typeof CombinableCrcs;

/** CRC values as S3 carries them: big-endian bytes (4 or 8). */
export function combineCrc(kind: CombinableCrc, first: Uint8Array, second: Uint8Array, secondLengthBytes: number): Buffer {
  const { width, reflectedPoly } = CombinableCrcs[kind];
  const combined = combine(toBigInt(first, width), toBigInt(second, width), BigInt(secondLengthBytes), width, reflectedPoly);
  return fromBigInt(combined, width);
}

function combine(crc1: bigint, crc2: bigint, length: bigint, width: number, poly: bigint): bigint {
  if (length === 0n) return crc1;
  // odd: the operator for one zero bit; even: for two. Each squaring doubles the zero bits applied.
  let odd: bigint[] = [poly];
  for (let n = 1, row = 1n; n < width; n++, row <<= 1n) odd.push(row);
  let even = square(odd);
  odd = square(even);
  let remaining = length;
  let crc = crc1;
  for (;;) {
    even = square(odd);
    if (remaining & 1n) crc = times(even, crc);
    remaining >>= 1n;
    if (remaining === 0n) break;
    odd = square(even);
    if (remaining & 1n) crc = times(odd, crc);
    remaining >>= 1n;
    if (remaining === 0n) break;
  }
  return crc ^ crc2;
}

function times(matrix: readonly bigint[], vector: bigint): bigint {
  let sum = 0n;
  for (let i = 0, v = vector; v !== 0n; i++, v >>= 1n) if (v & 1n) sum ^= matrix[i];
  return sum;
}

function square(matrix: readonly bigint[]): bigint[] {
  return matrix.map((row) => times(matrix, row));
}

function toBigInt(bytes: Uint8Array, width: number): bigint {
  if (bytes.length !== width / 8) throw new Error(`a ${width}-bit CRC is ${width / 8} bytes, not ${bytes.length}`);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function fromBigInt(value: bigint, width: number): Buffer {
  const bytes = Buffer.alloc(width / 8);
  for (let i = bytes.length - 1, v = value; i >= 0; i--, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return bytes;
}
