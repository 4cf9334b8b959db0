/**
 * Arithmetic in GF(2^8) with the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), the
 * field of the Reed-Solomon erasure codes of Backblaze, klauspost/reedsolomon and the Rust
 * reed-solomon-erasure crate. Addition is XOR; multiplication goes through log/exp tables, and each
 * of the 256 constants has a 256-entry product table, so coding a shard is one table lookup per byte.
 */
export const GF_POLYNOMIAL = 0x11d;
export const GF_ORDER = 256;

const EXP = new Uint8Array(2 * GF_ORDER);
const LOG = new Uint8Array(GF_ORDER);
{
  let x = 1;
  for (let i = 0; i < GF_ORDER - 1; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= GF_POLYNOMIAL;
  }
  for (let i = GF_ORDER - 1; i < EXP.length; i++) EXP[i] = EXP[i - (GF_ORDER - 1)];
}

/** MUL_TABLES[c][x] = c·x: 64 KiB, built once. */
const MUL_TABLES: readonly Uint8Array[] = Array.from({ length: GF_ORDER }, (_, c) => {
  const table = new Uint8Array(GF_ORDER);
  if (c !== 0) for (let x = 1; x < GF_ORDER; x++) table[x] = EXP[LOG[c] + LOG[x]];
  return table;
});

export function gfMul(a: number, b: number): number {
  return MUL_TABLES[a][b];
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(256)');
  if (a === 0) return 0;
  return EXP[LOG[a] + GF_ORDER - 1 - LOG[b]];
}

export function gfInverse(a: number): number {
  return gfDiv(1, a);
}

/** a^n for n >= 0 (0^0 = 1). */
export function gfPow(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a] * n) % (GF_ORDER - 1)];
}

/** The product table of one constant: table[x] = c·x. */
export function gfMulTable(c: number): Uint8Array {
  return MUL_TABLES[c];
}

/** Two-byte product tables (2 input bytes → 2 product bytes), built for the constants a code uses. */
const WIDE_TABLES = new Map<number, Uint16Array>();

/** WIDE[x] = c·(x & 0xff) | c·(x >> 8) << 8: 128 KiB, one lookup per two bytes. */
function wideTable(c: number): Uint16Array {
  let table = WIDE_TABLES.get(c);
  if (!table) {
    const narrow = MUL_TABLES[c];
    table = new Uint16Array(GF_ORDER * GF_ORDER);
    for (let x = 0; x < table.length; x++) table[x] = narrow[x & 0xff] | (narrow[x >>> 8] << 8);
    WIDE_TABLES.set(c, table);
  }
  return table;
}

/** Below this many bytes the byte loop is as fast as setting up word views. */
const WORD_PATH_MIN_BYTES = 64;

/** 32-bit views of the first `words` words of both arrays; the input is copied when it is not 4-byte aligned. */
function wordViews(out: Uint8Array, input: Uint8Array, words: number): [Uint32Array, Uint32Array] | null {
  if (out.byteOffset % 4 !== 0) return null;
  const source = input.byteOffset % 4 === 0 ? input : Uint8Array.from(input.subarray(0, words * 4));
  return [new Uint32Array(out.buffer, out.byteOffset, words), new Uint32Array(source.buffer, source.byteOffset, words)];
}

/**
 * out[i] ^= c·input[i] over `length` bytes: the inner loop of encoding and decoding. c = 1 is a
 * plain XOR and c = 0 adds nothing. Four bytes at a time through two-byte tables where the arrays
 * allow (about six times the byte loop).
 */
export function gfMulAddInto(out: Uint8Array, input: Uint8Array, c: number, length: number): void {
  if (c === 0) return;
  const words = length >= WORD_PATH_MIN_BYTES ? length >>> 2 : 0;
  const views = words > 0 ? wordViews(out, input, words) : null;
  let i = 0;
  if (views) {
    const [out32, in32] = views;
    if (c === 1) {
      for (let w = 0; w < words; w++) out32[w] ^= in32[w];
    } else {
      const wide = wideTable(c);
      for (let w = 0; w < words; w++) {
        const x = in32[w];
        out32[w] ^= wide[x & 0xffff] | (wide[x >>> 16] << 16);
      }
    }
    i = words * 4;
  }
  if (c === 1) {
    for (; i < length; i++) out[i] ^= input[i];
    return;
  }
  const table = MUL_TABLES[c];
  for (; i < length; i++) out[i] ^= table[input[i]];
}

/** out[i] = c·input[i] over `length` bytes. */
export function gfMulInto(out: Uint8Array, input: Uint8Array, c: number, length: number): void {
  out.fill(0, 0, length);
  gfMulAddInto(out, input, c, length);
}
