/**
 * CRC-64/NVME (the CRC S3 calls CRC64NVME): reflected, polynomial 0xAD93D23594C93659, init and
 * final xor all ones. Check value for "123456789" is 0xAE8B14860A799888.
 *
 * JavaScript numbers cannot hold 64 bits and BigInt is too slow per byte, so the register is kept
 * as two 32-bit halves and the tables are sliced by 8 (eight bytes per step).
 */
const REFLECTED_POLY_HIGH = 0x9a6c9329;
const REFLECTED_POLY_LOW = 0xac4bc9b5;
const TABLE_SIZE = 256;
const SLICES = 8;

interface Tables {
  readonly high: Uint32Array;
  readonly low: Uint32Array;
}

function buildTables(): Tables {
  const high = new Uint32Array(TABLE_SIZE * SLICES);
  const low = new Uint32Array(TABLE_SIZE * SLICES);
  for (let n = 0; n < TABLE_SIZE; n++) {
    let hi = 0;
    let lo = n;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        hi = (hi ^ REFLECTED_POLY_HIGH) >>> 0;
        lo = (lo ^ REFLECTED_POLY_LOW) >>> 0;
      }
    }
    high[n] = hi;
    low[n] = lo;
  }
  for (let slice = 1; slice < SLICES; slice++) {
    for (let n = 0; n < TABLE_SIZE; n++) {
      const prevHi = high[(slice - 1) * TABLE_SIZE + n];
      const prevLo = low[(slice - 1) * TABLE_SIZE + n];
      const index = prevLo & 0xff;
      high[slice * TABLE_SIZE + n] = (prevHi >>> 8) ^ high[index];
      low[slice * TABLE_SIZE + n] = (((prevLo >>> 8) | (prevHi << 24)) ^ low[index]) >>> 0;
    }
  }
  return { high, low };
}

const TABLES = buildTables();

export class Crc64Nvme {
  private high = 0xffffffff;
  private low = 0xffffffff;

  update(data: Uint8Array): this {
    const { high: th, low: tl } = TABLES;
    let hi = this.high;
    let lo = this.low;
    let i = 0;
    const sliceEnd = data.length - (data.length % SLICES);
    for (; i < sliceEnd; i += SLICES) {
      const l = lo ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
      const h = hi ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
      const i7 = 7 * TABLE_SIZE + (l & 0xff);
      const i6 = 6 * TABLE_SIZE + ((l >>> 8) & 0xff);
      const i5 = 5 * TABLE_SIZE + ((l >>> 16) & 0xff);
      const i4 = 4 * TABLE_SIZE + (l >>> 24);
      const i3 = 3 * TABLE_SIZE + (h & 0xff);
      const i2 = 2 * TABLE_SIZE + ((h >>> 8) & 0xff);
      const i1 = TABLE_SIZE + ((h >>> 16) & 0xff);
      const i0 = h >>> 24;
      hi = th[i7] ^ th[i6] ^ th[i5] ^ th[i4] ^ th[i3] ^ th[i2] ^ th[i1] ^ th[i0];
      lo = tl[i7] ^ tl[i6] ^ tl[i5] ^ tl[i4] ^ tl[i3] ^ tl[i2] ^ tl[i1] ^ tl[i0];
    }
    for (; i < data.length; i++) {
      const index = (lo ^ data[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ tl[index];
      hi = (hi >>> 8) ^ th[index];
    }
    this.high = hi >>> 0;
    this.low = lo >>> 0;
    return this;
  }

  /** The 8-byte big-endian checksum, as S3 base64-encodes it. */
  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32BE((this.high ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.low ^ 0xffffffff) >>> 0, 4);
    return out;
  }
}
